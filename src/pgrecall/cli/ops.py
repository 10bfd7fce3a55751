"""Operations commands: ``pgrecall cleanup | export | import | purge``.

Each prints a JSON report on standard output (on standard error when the data itself
goes to standard output: ``export --out -``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["add_commands"]


def _store(args: argparse.Namespace) -> Store:
    from ..store import connect
    from .common import resolve_url

    return connect(resolve_url(args), pool_min_size=0, pool_max_size=2)


def _print(report: BaseModel, *, err: bool = False) -> None:
    print(report.model_dump_json(indent=2), file=sys.stderr if err else sys.stdout)


def _days(text: str) -> int | None:
    """``N`` days, or ``never`` / ``none`` (keep everything)."""
    if text.lower() in ("never", "none"):
        return None
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("days must be >= 0")
    return value


def cmd_cleanup(args: argparse.Namespace) -> int:
    from ..ops import cleanup

    with _store(args) as store:
        report = cleanup(
            store,
            tenant=args.tenant,
            events_days=args.events_days,
            deleted_days=args.deleted_days,
            ahead_days=args.ahead_days,
        )
    _print(report)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..ops import export_tenant

    with _store(args) as store:
        if args.out == "-":
            report = export_tenant(store, args.tenant, sys.stdout)
            sys.stdout.flush()
            _print(report, err=True)
        else:
            out = Path(args.out or f"export-{args.tenant}")
            report = export_tenant(store, args.tenant, out)
            _print(report)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..ops import import_tenant

    with _store(args) as store:
        src = sys.stdin if args.source == "-" else Path(args.source)
        report = import_tenant(store, src, tenant=args.tenant)
    _print(report)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from ..ops import purge_tenant

    if not args.yes:
        print(
            f"pgrecall purge: this deletes every row of tenant {args.tenant!r}; add --yes to do it",
            file=sys.stderr,
        )
        return 2
    with _store(args) as store:
        report = purge_tenant(store, args.tenant)
    _print(report)
    return 0


def add_commands(sub: Any) -> None:
    """Register the operations commands on the CLI's subparsers."""

    def add(
        name: str, fn: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
        p.set_defaults(fn=fn)
        return p

    c = add(
        "cleanup",
        cmd_cleanup,
        "retention: create event partitions ahead, drop old ones, delete expired cache "
        "entries and memories, purge long soft-deleted conversations (JSON report)",
    )
    c.add_argument(
        "--tenant", help="only this tenant's rows, no partition dropped (default: all tenants)"
    )
    c.add_argument(
        "--events-days", type=_days, default=90, help="keep events N days (default 90; never)"
    )
    c.add_argument(
        "--deleted-days",
        type=_days,
        default=30,
        help="purge conversations deleted more than N days ago (default 30; never)",
    )
    c.add_argument("--ahead-days", type=int, default=7, help="event partitions ahead (7)")

    e = add("export", cmd_export, "write a tenant's rows as JSON Lines (constant memory)")
    e.add_argument("--tenant", required=True)
    e.add_argument(
        "--out", help="directory (default export-<tenant>), or - for one stream on stdout"
    )

    i = add("import", cmd_import, "restore an export into a tenant that has no rows")
    i.add_argument("source", help="export directory, or a stream file, or - for stdin")
    i.add_argument("--tenant", help="target tenant (default: the exported one)")

    p = add("purge", cmd_purge, "delete every row of a tenant in one transaction")
    p.add_argument("--tenant", required=True)
    p.add_argument("--yes", action="store_true", help="really delete")
