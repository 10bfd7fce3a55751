"""The database commands: ``pgrecall up | down | psql | demo | health``."""

from __future__ import annotations

import argparse
import json
import os
import shlex
from pathlib import Path
from typing import Any

from ..dev import embedded
from ..errors import PgRecallError
from ..settings import yoyo_url
from .common import VERSIONS, embedded_dir, pg_version, resolve_url, say

__all__ = ["add_commands"]


def cmd_up(args: argparse.Namespace) -> int:
    version = pg_version(args)  # without --pg: reuse the one running
    server = embedded.start(embedded_dir(args), version)
    url = yoyo_url(server.url)
    if args.export:
        print(f"export DATABASE_URL={shlex.quote(url)}")
        return 0
    print(f"embedded PostgreSQL {version} running, data in {server.data_dir}")
    print(f"DATABASE_URL={url}")
    print(f"psql: {embedded.psql_command(version)} '{server.url}'")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    """Stop the ``--pg`` server; without ``--pg``, every embedded server running there."""
    home = embedded_dir(args)
    stopped = [v for v in ((args.pg,) if args.pg else VERSIONS) if embedded.stop(home, v)]
    print("stopped" if stopped else "not running")
    for v in stopped:
        say(f"stopped the embedded PostgreSQL {v} in {home}")
    return 0


def cmd_psql(args: argparse.Namespace) -> int:
    url = resolve_url(args)
    psql = embedded.psql_command(pg_version(args))
    os.execv(psql, [psql, url, *args.rest])
    return 0  # pragma: no cover


def cmd_demo(args: argparse.Namespace) -> int:
    from ..dev.demo import run_demo

    return run_demo(resolve_url(args), psql=embedded.psql_command(pg_version(args)))


def cmd_health(args: argparse.Namespace) -> int:
    from ..ops.health import health

    try:
        url = resolve_url(args, start=False)
    except PgRecallError as exc:
        print(json.dumps({"status": "unhealthy", "error": str(exc)}, indent=2))
        return 1
    report = health(url, sources=[Path(s) for s in args.source] if args.source else None)
    print(report.model_dump_json(indent=2))
    return 0 if report.status == "healthy" else 1


def add_commands(sub: Any) -> None:
    """Register the database commands on the CLI's subparsers."""

    def add(name: str, fn: Any, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
        p.set_defaults(fn=fn)
        return p

    up = add("up", cmd_up, "start (or reuse) the embedded PostgreSQL and print DATABASE_URL")
    up.add_argument("--export", action="store_true", help="print an `export` line for eval")
    add("down", cmd_down, "stop the embedded PostgreSQL (without --pg: whichever runs)")
    add("psql", cmd_psql, "open psql on the database (arguments after `psql` go to psql)")
    add("demo", cmd_demo, "store and read back a small conversation; print how to open psql")
    h = add("health", cmd_health, "JSON health report (never raises)")
    h.add_argument(
        "--source",
        action="append",
        help="migrations directory, as given to migrate (repeatable; default pgrecall's own)",
    )
