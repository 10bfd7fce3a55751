"""Operations commands: ``pgrecall cleanup | export | import | purge``.

Each prints a JSON report on standard output (on standard error when the data itself
goes to standard output: ``export --out -``). On a terminal, a progress bar on standard
error shows the rows (export, import) or the steps (cleanup) as they go.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import BaseModel

from .progress import row_bar, step_bar

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
    from ..ops.cleanup import CLEANUP_STEPS

    with _store(args) as store, step_bar("cleanup", CLEANUP_STEPS) as progress:
        report = cleanup(
            store,
            tenant=args.tenant,
            events_days=args.events_days,
            deleted_days=args.deleted_days,
            ahead_days=args.ahead_days,
            progress=progress,
        )
    _print(report)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..ops import export_tenant

    allow = args.allow_empty
    with _store(args) as store, row_bar(f"export {args.tenant}") as progress:
        if args.out == "-":
            report = export_tenant(
                store, args.tenant, sys.stdout, allow_empty=allow, progress=progress
            )
            sys.stdout.flush()
        else:
            out = Path(args.out or f"export-{args.tenant}")
            report = export_tenant(store, args.tenant, out, allow_empty=allow, progress=progress)
    _print(report, err=args.out == "-")
    if not any(report.rows.values()):
        print(f"pgrecall export: warning: tenant {args.tenant!r} has no rows", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..ops import import_tenant

    path = None if args.source == "-" else Path(args.source)
    with ExitStack() as stack:
        src: Path | TextIO = sys.stdin
        if path is not None:  # a directory export, or a stream written by `export --out -`
            src = stack.enter_context(path.open(encoding="utf-8")) if path.is_file() else path
        store = stack.enter_context(_store(args))
        progress = stack.enter_context(row_bar("import", total=_export_rows(src)))
        report = import_tenant(store, src, tenant=args.tenant, progress=progress)
    _print(report)
    return 0


def _export_rows(src: Path | Any) -> int | None:
    """Rows in an export directory, from its manifest (for the bar's total)."""
    from ..ops.catalog import MANIFEST

    try:
        manifest = json.loads((src / MANIFEST).read_text("utf-8"))
        return sum(int(t["rows"]) for t in manifest["tables"])
    except (TypeError, OSError, ValueError, KeyError):
        return None  # a stream, or not an export: import_tenant says what is wrong


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
    e.add_argument(
        "--allow-empty",
        action="store_true",
        help="export a tenant that has no rows (default: refuse, exit 2: a misspelt tenant?)",
    )

    i = add("import", cmd_import, "restore an export into a tenant that has no rows")
    i.add_argument("source", help="export directory, or a stream file, or - for stdin")
    i.add_argument("--tenant", help="target tenant (default: the exported one)")

    p = add("purge", cmd_purge, "delete every row of a tenant in one transaction")
    p.add_argument("--tenant", required=True)
    p.add_argument("--yes", action="store_true", help="really delete")
