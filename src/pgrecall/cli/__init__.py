"""The ``pgrecall`` command line.

The database is ``--url``, else ``DATABASE_URL``, else the embedded server in
``.pgrecall/`` (started on demand by the commands that need one; the CLI says which).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from ..errors import PgRecallError, translate
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
    parser.add_argument(
        "--pg",
        type=int,
        choices=(16, 18),
        help="embedded PostgreSQL version (default: the running one, else "
        "PGRECALL_EMBEDDED_VERSION, 18)",
    )
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
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except PgRecallError as exc:
        say(f"pgrecall {args.command}: {type(exc).__name__}: {exc}")
        return 2
    except psycopg.Error as exc:  # a database error the command did not translate
        err = translate(exc)
        say(f"pgrecall {args.command}: {type(err).__name__}: {err}")
        return 2
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:  # Ctrl-C in a long export: a line, not a traceback
        say(f"pgrecall {args.command}: interrupted")
        return 130
    return code


def _closed_pipe() -> int:
    """The reader went away (``pgrecall status --json | head``): stop quietly, like a
    command ended by SIGPIPE (exit 141), and keep Python from failing again on the final
    flush of standard output."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # stdout is not a real file
        pass
    return 141


if __name__ == "__main__":
    raise SystemExit(main())
