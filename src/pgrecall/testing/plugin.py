"""pytest fixtures: ``pg_url`` (server), ``db_url`` (migrated clone), ``empty_db_url``,
``store`` and ``astore``, and ``app_url`` / ``app_store`` (the same database as a
non-superuser login in role ``pgrecall_app``, so row level security applies).
Enable with ``pytest_plugins = ["pgrecall.testing.plugin"]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from ..settings import yoyo_url
from ..store import Store, connect
from ..store_async import AsyncStore, connect_async
from . import (
    ServerHandle,
    citus,
    clone_database,
    create_database,
    drop_database,
    open_server,
    with_database,
)

TEMPLATE = "pgrecall_template"
_CITUS_SCHEMA: list[str | None] = []  # the Citus database's schema fingerprint
APP_LOGIN, APP_PASSWORD = "pgrecall_tester", "tester"


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ServerHandle]:
    """The test server (see :func:`pgrecall.testing.open_server`)."""
    if (url := citus.citus_url()) is not None:  # the Citus coordinator
        yield ServerHandle(with_database(url, "postgres"))
        return
    with open_server() as server:
        yield server


@pytest.fixture(scope="session")
def pg_url(pg_server: ServerHandle) -> str:
    """Admin URL of the test server."""
    return pg_server.url


@pytest.fixture(scope="session")
def template_db(pg_url: str) -> Iterator[str]:
    """A database with every migration applied; cloned for each test."""
    if (url := citus.citus_url()) is not None:  # no clones on Citus: one distributed db
        citus.prepare(url)
        _CITUS_SCHEMA.append(citus.fingerprint(url))
        yield _dbname(url)
        return
    drop_database(pg_url, TEMPLATE)
    url = create_database(pg_url, prefix="tmp")
    name = _dbname(url)
    from .. import migrate as migrations

    migrations.migrate(yoyo_url(url))

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" RENAME TO {TEMPLATE}')
    yield TEMPLATE
    drop_database(pg_url, TEMPLATE)


@pytest.fixture
def db_url(pg_url: str, template_db: str) -> Iterator[str]:
    """URL of a fresh, migrated database private to this test."""
    if (url := citus.citus_url()) is not None:  # Citus: the one database, emptied
        citus.empty_all(url)
        yield url
        if citus.fingerprint(url) != _CITUS_SCHEMA[-1]:  # the test changed the schema
            citus.prepare(url)
            _CITUS_SCHEMA.append(citus.fingerprint(url))
        return
    url = clone_database(pg_url, template_db)
    yield url
    drop_database(pg_url, _dbname(url))


@pytest.fixture
def empty_db_url(pg_url: str) -> Iterator[str]:
    """URL of a fresh database with nothing in it (not even migrations)."""
    url = create_database(pg_url)
    yield url
    drop_database(pg_url, _dbname(url))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with connect(db_url, pool_min_size=0, pool_max_size=4) as s:
        yield s


@pytest.fixture
async def astore(db_url: str) -> AsyncIterator[AsyncStore]:
    async with await connect_async(db_url, pool_min_size=0, pool_max_size=4) as s:
        yield s


def as_login(url: str, user: str, password: str) -> str:
    """The same database URL with another user and password."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.fixture
def app_url(db_url: str) -> str:
    """``db_url`` as a non-superuser login that is a member of ``pgrecall_app``."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_LOGIN,))
        if found.fetchone() is None:
            conn.execute(f"CREATE ROLE {APP_LOGIN} LOGIN PASSWORD '{APP_PASSWORD}'")
        conn.execute(f"GRANT pgrecall_app TO {APP_LOGIN}")
    return as_login(db_url, APP_LOGIN, APP_PASSWORD)


@pytest.fixture
def app_store(app_url: str) -> Iterator[Store]:
    """A store connected as the ``app_url`` login: RLS applies to everything it does."""
    with connect(app_url, pool_min_size=0, pool_max_size=2) as s:
        yield s
