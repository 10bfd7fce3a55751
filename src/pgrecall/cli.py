"""The ``pgrecall`` command line.

The database is ``--url``, else ``DATABASE_URL``, else the embedded server in
``.pgrecall/`` (started on demand by the commands that need one; the CLI says which).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import embedded
from .check import add_command as add_check_command
from .errors import PgRecallError
from .ops_cli import add_commands as add_ops_commands
from .settings import Settings, libpq_url, yoyo_url

__all__ = ["main"]


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def resolve_url(args: argparse.Namespace, *, start: bool = True) -> str:
    """``--url`` / ``DATABASE_URL`` when given, else the embedded server (started)."""
    if args.url:
        return libpq_url(args.url)
    env = os.environ.get("DATABASE_URL")
    if env:
        _say("using DATABASE_URL")
        return libpq_url(env)
    settings = Settings()
    server = embedded.status(args.dir or settings.embedded_dir, args.pg)
    if server is None:
        if not start:
            raise PgRecallError("no DATABASE_URL and the embedded server is not running")
        server = embedded.start(args.dir or settings.embedded_dir, args.pg)
    _say(f"using the embedded PostgreSQL {args.pg} in {server.data_dir}")
    return server.url


def cmd_up(args: argparse.Namespace) -> int:
    server = embedded.start(args.dir or Settings().embedded_dir, args.pg)
    url = yoyo_url(server.url)
    if args.export:
        print(f"export DATABASE_URL={shlex.quote(url)}")
        return 0
    print(f"embedded PostgreSQL {args.pg} running, data in {server.data_dir}")
    print(f"DATABASE_URL={url}")
    print(f"psql: {embedded.psql_command(args.pg)} '{server.url}'")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stopped = embedded.stop(args.dir or Settings().embedded_dir, args.pg)
    print("stopped" if stopped else "not running")
    return 0


def cmd_psql(args: argparse.Namespace) -> int:
    url = resolve_url(args)
    psql = embedded.psql_command(args.pg)
    os.execv(psql, [psql, url, *args.rest])
    return 0  # pragma: no cover


def _sources(args: argparse.Namespace) -> list[Path] | None:
    return [Path(p) for p in args.source] if args.source else None


def cmd_migrate(args: argparse.Namespace) -> int:
    from . import migrations

    report = migrations.migrate(
        yoyo_url(resolve_url(args)),
        sources=_sources(args),
        dry_run=args.dry_run,
        lock_timeout=args.lock_timeout,
    )
    print(report.render())
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from . import migrations

    report = migrations.rollback(
        yoyo_url(resolve_url(args)),
        sources=_sources(args),
        count=args.count,
        dry_run=args.dry_run,
        lock_timeout=args.lock_timeout,
    )
    print(report.render())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from . import migrations

    states = migrations.status(yoyo_url(resolve_url(args)), sources=_sources(args))
    if args.json:
        print(json.dumps([s.as_dict() for s in states], indent=2, default=str))
    else:
        for s in states:
            when = s.applied_at.isoformat(timespec="seconds") if s.applied_at else ""
            print(f"{s.state:<8} {s.id:<40} {when}")
    return 1 if any(s.state in ("drifted", "missing") for s in states) else 0


def cmd_lint(args: argparse.Namespace) -> int:
    from . import migrations

    problems = migrations.lint(_sources(args))
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(resolve_url(args), psql=embedded.psql_command(args.pg))


def cmd_health(args: argparse.Namespace) -> int:
    from .health import health

    try:
        url = resolve_url(args, start=False)
    except PgRecallError as exc:
        print(json.dumps({"status": "unhealthy", "error": str(exc)}, indent=2))
        return 1
    report = health(url)
    print(report.model_dump_json(indent=2))
    return 0 if report.status == "healthy" else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgrecall", description=__doc__)
    parser.add_argument("--url", help="database URL (default: DATABASE_URL, else embedded)")
    parser.add_argument("--dir", type=Path, help="embedded server home (default .pgrecall)")
    parser.add_argument("--pg", type=int, choices=(16, 18), default=18, help="embedded version")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, fn: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(fn=fn)
        return p

    up = add("up", cmd_up, "start (or reuse) the embedded PostgreSQL and print DATABASE_URL")
    up.add_argument("--export", action="store_true", help="print an `export` line for eval")
    add("down", cmd_down, "stop the embedded PostgreSQL")
    add("psql", cmd_psql, "open psql on the database (arguments after `psql` go to psql)")
    for name, fn, text in (
        ("migrate", cmd_migrate, "apply pending migrations (advisory lock, checksum ledger)"),
        ("rollback", cmd_rollback, "roll back the most recent migrations"),
    ):
        p = add(name, fn, text)
        p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
        p.add_argument("--lock-timeout", type=float, default=60.0, help="seconds (default 60)")
        p.add_argument("--source", action="append", help="migrations directory (repeatable)")
        if name == "rollback":
            p.add_argument("--count", type=int, default=1, help="how many (default 1)")
    st = add("status", cmd_status, "applied / pending / drifted / missing migrations")
    st.add_argument("--json", action="store_true")
    st.add_argument("--source", action="append", help="migrations directory (repeatable)")
    li = add("lint", cmd_lint, "check migration files against the project's rules")
    li.add_argument("--source", action="append", help="migrations directory (repeatable)")
    add("demo", cmd_demo, "store and read back a small conversation; print how to open psql")
    add("health", cmd_health, "JSON health report (never raises)")
    add_check_command(sub)
    add_ops_commands(sub)
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
        _say(f"pgrecall {args.command}: {type(exc).__name__}: {exc}")
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
