"""Test support: find a PostgreSQL for the tests and hand each test its own database.

Resolution order: ``PGRECALL_TEST_DATABASE_URL``; else a PostgreSQL container when a
Docker engine answers (testcontainers); else the embedded server in a temporary
directory. Migrations are applied once to a template database; each test gets a
clone (``CREATE DATABASE ... TEMPLATE``), so tests never see each other's rows.

Use it from an application's own tests with ``pytest_plugins = ["pgrecall.testing.plugin"]``.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from . import citus

__all__ = [
    "ServerHandle",
    "clone_database",
    "create_database",
    "drop_database",
    "open_server",
    "server_url",
    "with_database",
]


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def _docker_reachable() -> bool:
    """A Docker engine answers ``/_ping`` on its socket (testcontainers needs one)."""
    if os.environ.get("DOCKER_HOST"):
        return True
    path = "/var/run/docker.sock"
    if not Path(path).exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


@dataclass(frozen=True)
class ServerHandle:
    """A server for the tests: its admin URL and, when we own it, a way to restart it."""

    url: str
    restart: Callable[[], None] | None = None
    #: The embedded server's data directory (its Unix socket is there) and version.
    data_dir: Path | None = None
    version: int | None = None


@contextmanager
def open_server() -> Iterator[ServerHandle]:
    """Yield a server the tests may use (see the module docstring for the order)."""
    explicit = os.environ.get("PGRECALL_TEST_DATABASE_URL")
    if explicit:
        yield ServerHandle(explicit)
        return
    if _docker_reachable():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("pgvector/pgvector:pg18", driver=None) as pg:
            yield ServerHandle(pg.get_connection_url())
        return
    from ..dev import embedded

    home = Path(tempfile.mkdtemp(prefix="pgrecall-test-"))
    version = int(os.environ.get("PGRECALL_TEST_PG_VERSION", "18"))
    try:
        url = embedded.start(home, version).url

        def restart() -> None:
            embedded.restart(home, version)

        yield ServerHandle(url, restart, home / f"pg{version}", version)
    finally:
        with suppress(Exception):
            embedded.stop(home, version, mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def server_url() -> Iterator[str]:
    """Yield an admin URL (database ``postgres``) of a server the tests may use."""
    with open_server() as server:
        yield server.url


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True)


def create_database(url: str, prefix: str = "pgrecall_t") -> str:
    """Create an empty database; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(url, name)


def clone_database(url: str, template: str, prefix: str = "pgrecall_t") -> str:
    """Create a database from ``template`` (which must have no connections).

    On Citus (``PGRECALL_TEST_CITUS_URL``) the template is the one distributed database:
    no clone, the same database emptied.
    """
    shared = citus.citus_url()
    if shared is not None and urlsplit(shared).path.lstrip("/") == template:
        citus.empty_all(shared)
        return shared
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return with_database(url, name)


def drop_database(url: str, dbname: str) -> None:
    shared = citus.citus_url()
    if shared is not None and urlsplit(shared).path.lstrip("/") == dbname:
        return  # the Citus test database stays (it is emptied before each use)
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
