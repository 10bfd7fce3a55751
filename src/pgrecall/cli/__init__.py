"""The ``pgrecall`` command line.

The database is ``--url``, else ``DATABASE_URL``, else the embedded server in
``.pgrecall/`` (started on demand by the commands that need one; the CLI says which).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import PgRecallError
from .api import add_commands as add_api_commands
from .check import add_commands as add_check_commands
from .common import say
from .distribute import add_commands as add_distribute_commands
from .migrate import add_commands as add_migrate_commands
from .ops import add_commands as add_ops_commands
from .server import add_commands as add_server_commands

__all__ = ["COMMAND_GROUPS", "main"]

#: Each command group registers its subcommands; add a module and list it here.
COMMAND_GROUPS: list[Callable[[Any], None]] = [
    add_server_commands,
    add_migrate_commands,
    add_check_commands,
    add_ops_commands,
    add_distribute_commands,
    add_api_commands,
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgrecall", description=__doc__)
    parser.add_argument("--url", help="database URL (default: DATABASE_URL, else embedded)")
    parser.add_argument("--dir", type=Path, help="embedded server home (default .pgrecall)")
    parser.add_argument("--pg", type=int, choices=(16, 18), default=18, help="embedded version")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rest: list[str] = []
    if "psql" in argv:  # everything after `psql` goes to psql untouched
        cut = argv.index("psql") + 1
        argv, rest = argv[:cut], argv[cut:]
    args = _parser().parse_args(argv)
    if args.command == "psql":
        args.rest = rest
    try:
        code: int = args.fn(args)
    except PgRecallError as exc:
        say(f"pgrecall {args.command}: {type(exc).__name__}: {exc}")
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
