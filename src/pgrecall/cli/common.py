"""What every command shares: where the database is."""

from __future__ import annotations

import argparse
import os
import sys

from ..dev import embedded
from ..errors import PgRecallError
from ..settings import Settings, libpq_url

__all__ = ["resolve_url", "say"]


def say(message: str) -> None:
    print(message, file=sys.stderr)


def resolve_url(args: argparse.Namespace, *, start: bool = True) -> str:
    """``--url`` / ``DATABASE_URL`` when given, else the embedded server (started)."""
    if args.url:
        return libpq_url(args.url)
    env = os.environ.get("DATABASE_URL")
    if env:
        say("using DATABASE_URL")
        return libpq_url(env)
    settings = Settings()
    server = embedded.status(args.dir or settings.embedded_dir, args.pg)
    if server is None:
        if not start:
            raise PgRecallError("no DATABASE_URL and the embedded server is not running")
        server = embedded.start(args.dir or settings.embedded_dir, args.pg)
    say(f"using the embedded PostgreSQL {args.pg} in {server.data_dir}")
    return server.url
