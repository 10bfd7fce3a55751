"""The migration commands: ``pgrecall migrate | rollback | status | lint``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings import Settings, yoyo_url
from .common import resolve_url

if TYPE_CHECKING:
    from ..migrate import LiveSafety

__all__ = ["add_commands"]


def _sources(args: argparse.Namespace) -> list[Path] | None:
    return [Path(p) for p in args.source] if args.source else None


def _lock_wait(args: argparse.Namespace) -> float:
    wait = Settings().migrate_lock_timeout if args.lock_timeout is None else args.lock_timeout
    return float(wait)


def _safety(args: argparse.Namespace) -> LiveSafety:
    from ..migrate import LiveSafety

    base = LiveSafety.from_settings(Settings())
    return LiveSafety(
        lock_timeout=base.lock_timeout
        if args.statement_lock_timeout is None
        else args.statement_lock_timeout,
        statement_timeout=base.statement_timeout
        if args.statement_timeout is None
        else args.statement_timeout,
        retries=base.retries if args.lock_retries is None else args.lock_retries,
        retry_delay=base.retry_delay,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    from .. import migrate as migrations

    report = migrations.migrate(
        yoyo_url(resolve_url(args)),
        sources=_sources(args),
        dry_run=args.dry_run,
        lock_timeout=_lock_wait(args),
        safety=_safety(args),
    )
    print(report.render())
    return 0


#: ``pgrecall rollback`` of more migrations than this wants ``--yes`` (as does the initial one).
CONFIRM_ABOVE = 3


def _rollback_refusal(url: str, args: argparse.Namespace) -> str | None:
    """Why this rollback needs ``--yes``: it undoes the first applied migration (which
    drops the schema and every row) or more than :data:`CONFIRM_ABOVE` migrations."""
    from .. import migrate as migrations

    plan = migrations.rollback(url, sources=_sources(args), count=args.count, dry_run=True).plan
    applied = [s.id for s in migrations.status(url, sources=_sources(args)) if s.applied_at]
    if applied and min(applied) in plan:
        return (
            f"this rolls back {len(plan)} migration(s) down to the initial one, "
            f"{min(applied)}: everything the migrations created goes, rows included"
        )
    if len(plan) > CONFIRM_ABOVE:
        return f"this rolls back {len(plan)} migrations ({', '.join(plan)})"
    return None


def cmd_rollback(args: argparse.Namespace) -> int:
    from .. import migrate as migrations

    url = yoyo_url(resolve_url(args))
    if not args.dry_run and not args.yes and (why := _rollback_refusal(url, args)):
        print(f"pgrecall rollback: {why}; add --yes to do it", file=sys.stderr)
        return 2
    report = migrations.rollback(
        url,
        sources=_sources(args),
        count=args.count,
        dry_run=args.dry_run,
        lock_timeout=_lock_wait(args),
        safety=_safety(args),
    )
    print(report.render())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .. import migrate as migrations

    states = migrations.status(yoyo_url(resolve_url(args)), sources=_sources(args))
    if args.json:
        print(json.dumps([s.as_dict() for s in states], indent=2, default=str))
    else:
        for s in states:
            when = s.applied_at.isoformat(timespec="seconds") if s.applied_at else ""
            print(f"{s.state:<8} {s.id:<40} {when}")
    return 1 if any(s.state in ("drifted", "missing") for s in states) else 0


def cmd_lint(args: argparse.Namespace) -> int:
    from .. import migrate as migrations

    problems = migrations.lint(_sources(args))
    if args.squawk:
        from ..migrate.squawk import squawk

        problems += squawk(_sources(args), config=args.squawk_config)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def add_commands(sub: Any) -> None:
    """Register the migration commands on the CLI's subparsers."""

    def add(name: str, fn: Any, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
        p.set_defaults(fn=fn)
        p.add_argument("--source", action="append", help="migrations directory (repeatable)")
        return p

    for name, fn, text in (
        ("migrate", cmd_migrate, "apply pending migrations (advisory lock, checksum ledger)"),
        ("rollback", cmd_rollback, "roll back the most recent migrations"),
    ):
        p = add(name, fn, text)
        p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
        p.add_argument(
            "--lock-timeout",
            type=float,
            default=None,
            help="seconds to wait for another run's advisory lock (default 60)",
        )
        p.add_argument(
            "--statement-lock-timeout",
            type=float,
            help="seconds each statement of a migration waits for a table lock before the "
            "migration rolls back and is retried (default 5; 0 = no limit)",
        )
        p.add_argument(
            "--statement-timeout",
            type=float,
            help="seconds one migration statement may run (default 3600; 0 = no limit)",
        )
        p.add_argument(
            "--lock-retries",
            type=int,
            help="retries of a migration that hit the statement lock timeout (default 5)",
        )
        if name == "rollback":
            p.add_argument("--count", type=int, default=1, help="how many (default 1)")
            p.add_argument(
                "--yes",
                action="store_true",
                help=f"really roll back the initial migration or more than {CONFIRM_ABOVE}",
            )
    st = add("status", cmd_status, "applied / pending / drifted / missing migrations")
    st.add_argument("--json", action="store_true")
    lt = add("lint", cmd_lint, "check migration files against the project's rules")
    lt.add_argument(
        "--squawk",
        action="store_true",
        help="also run squawk (pip install squawk-cli), the way pgrecall runs migrations",
    )
    lt.add_argument("--squawk-config", type=Path, help="default: the nearest .squawk.toml")
