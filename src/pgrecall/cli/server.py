"""The database commands: ``pgrecall up | down | psql | demo | health``."""

from __future__ import annotations

import argparse
import json
import os
import shlex
from typing import Any

from ..dev import embedded
from ..errors import PgRecallError
from ..settings import Settings, yoyo_url
from .common import resolve_url

__all__ = ["add_commands"]


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


def cmd_demo(args: argparse.Namespace) -> int:
    from ..dev.demo import run_demo

    return run_demo(resolve_url(args), psql=embedded.psql_command(args.pg))


def cmd_health(args: argparse.Namespace) -> int:
    from ..ops.health import health

    try:
        url = resolve_url(args, start=False)
    except PgRecallError as exc:
        print(json.dumps({"status": "unhealthy", "error": str(exc)}, indent=2))
        return 1
    report = health(url)
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
    add("down", cmd_down, "stop the embedded PostgreSQL")
    add("psql", cmd_psql, "open psql on the database (arguments after `psql` go to psql)")
    add("demo", cmd_demo, "store and read back a small conversation; print how to open psql")
    add("health", cmd_health, "JSON health report (never raises)")
