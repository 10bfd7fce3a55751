"""What every command shares: where the database is."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..dev import embedded
from ..errors import PgRecallError
from ..settings import Settings, libpq_url

__all__ = ["VERSIONS", "embedded_dir", "pg_version", "resolve_url", "say"]

#: The embedded PostgreSQL versions ``--pg`` may name.
VERSIONS = (18, 16)


def say(message: str) -> None:
    print(message, file=sys.stderr)


def embedded_dir(args: argparse.Namespace) -> Path:
    return Path(args.dir or Settings().embedded_dir)


def pg_version(args: argparse.Namespace) -> int:
    """``--pg``; else the version of the embedded server running in the directory
    (``PGRECALL_EMBEDDED_VERSION`` first); else ``PGRECALL_EMBEDDED_VERSION``."""
    if args.pg is not None:
        return int(args.pg)
    preferred = int(Settings().embedded_version)
    home = embedded_dir(args)
    for version in (preferred, *(v for v in VERSIONS if v != preferred)):
        if embedded.status(home, version) is not None:
            return version
    return preferred


def resolve_url(args: argparse.Namespace, *, start: bool = True) -> str:
    """``--url`` / ``DATABASE_URL`` when given, else the embedded server (started)."""
    if args.url:
        return libpq_url(args.url)
    env = os.environ.get("DATABASE_URL")
    if env:
        say("using DATABASE_URL")
        return libpq_url(env)
    version, home = pg_version(args), embedded_dir(args)
    server = embedded.status(home, version)
    if server is None:
        if not start:
            raise PgRecallError("no DATABASE_URL and the embedded server is not running")
        server = embedded.start(home, version)
    say(f"using the embedded PostgreSQL {version} in {server.data_dir}")
    return server.url
