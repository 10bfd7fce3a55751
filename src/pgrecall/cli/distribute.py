"""``pgrecall distribute``: spread the tables over a Citus cluster, by tenant.

Run against the Citus coordinator after ``pgrecall migrate``, and again after every
``pgrecall migrate`` that adds a table (tables already distributed are skipped).
Prints a JSON report; refuses with a clear message on a server without Citus.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import resolve_url

__all__ = ["add_commands"]


def cmd_distribute(args: argparse.Namespace) -> int:
    from ..ops.distribute import distribute

    report = distribute(
        resolve_url(args, start=False), shard_count=args.shard_count, dry_run=args.dry_run
    )
    print(report.model_dump_json(indent=2))
    return 0


def add_commands(sub: Any) -> None:
    """Register ``pgrecall distribute`` on the CLI's subparsers."""
    text = (
        "Citus: distribute every pgrecall table on tenant_id, co-located (idempotent; "
        "run after migrate, and again when a migration adds a table)"
    )
    p = sub.add_parser("distribute", help=text, description=text)
    p.set_defaults(fn=cmd_distribute)
    p.add_argument(
        "--shard-count",
        type=int,
        default=None,
        help="shards of a new co-location group (default: citus.shard_count, 32)",
    )
    p.add_argument("--dry-run", action="store_true", help="report what would be done")
