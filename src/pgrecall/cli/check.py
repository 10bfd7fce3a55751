"""``pgrecall check``: every named query against a freshly migrated database."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..check import CheckReport, fresh_database, render, run_check
from ..errors import ConfigurationError
from ..query.named import load_queries
from .common import resolve_url

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    """Register ``pgrecall check`` on the CLI's subparsers."""
    text = "verify every named query against a freshly migrated database and its model"
    p = sub.add_parser("check", help=text, description=text)
    p.set_defaults(fn=cmd_check)
    p.add_argument("--source", action="append", help="queries directory (repeatable)")
    p.add_argument("--migrations", action="append", help="migrations directory (repeatable)")
    p.add_argument("--models", action="append", help="module for unqualified @returns names")
    p.add_argument(
        "--in-place", action="store_true", help="check the database as it is (already migrated)"
    )
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")
    p.add_argument("-v", "--verbose", action="store_true", help="print parameter/column types")


def cmd_check(args: argparse.Namespace) -> int:
    """Run the check; exit 1 on errors (or on warnings with ``--strict``)."""
    with _cwd_importable():  # @returns app.models:Row from the project directory
        report = _run(args)
    for p in report.problems:
        print(p)
    for d in report.described if args.verbose else ():
        print(render(d))
    n = report.checked
    print(
        f"pgrecall check: {n} {'query' if n == 1 else 'queries'}, {len(report.errors)} error(s),"
        f" {len(report.warnings)} warning(s)",
        file=sys.stderr,
    )
    return 1 if report.errors or (args.strict and report.warnings) else 0


@contextmanager
def _cwd_importable() -> Iterator[None]:
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added:
            sys.path.remove(cwd)


def _run(args: argparse.Namespace) -> CheckReport:
    queries = load_queries(*args.source) if args.source else None
    models = _models(args.models or [])
    url = resolve_url(args)
    if args.in_place:
        return run_check(url, queries, models=models)
    dirs = [Path(m) for m in args.migrations] if args.migrations else None
    with fresh_database(url, dirs) as temp:
        return run_check(temp, queries, models=models)


def _models(names: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in names:
        try:
            found.update(vars(importlib.import_module(name)))
        except ImportError as exc:
            raise ConfigurationError(f"--models {name}: {exc}") from exc
    return found


