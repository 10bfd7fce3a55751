"""Issue 10.2 / 10.3: bad connection settings and an unmigrated database say what is wrong."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

import pgrecall
from pgrecall import ConfigurationError, TransientError


def test_unmigrated_database_says_to_migrate(empty_db_url: str) -> None:
    with (
        pgrecall.connect(empty_db_url, pool_min_size=0) as store,
        pytest.raises(ConfigurationError, match="pgrecall migrate") as err,
        store.session(tenant="acme") as s,
    ):
        s.users.list()
    assert err.value.sqlstate == "42P01"
    assert "yoyo apply" in str(err.value) and "pgrecall.users" in str(err.value)


def test_missing_migration_function_says_to_migrate(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DROP FUNCTION pgrecall.require_conversation(text, uuid)")
    with (
        pgrecall.connect(db_url, pool_min_size=0) as store,
        pytest.raises(ConfigurationError, match="pgrecall migrate") as err,
        store.session(tenant="acme") as s,
    ):
        s.messages.last(s.conversations.create("u").id)
    assert err.value.sqlstate == "42883"


def _with(url: str, *, user: str | None = None, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}:x@{netloc.rsplit('@', 1)[-1]}"
    path = parts.path if dbname is None else f"/{dbname}"
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


@pytest.fixture
def bad_urls(pg_url: str, db_url: str) -> dict[str, tuple[str, str]]:
    """Connection settings the server refuses, and the reason libpq gives."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS pgrecall_nologin")
        conn.execute("CREATE ROLE pgrecall_nologin NOLOGIN")
    return {
        "database": (_with(db_url, dbname="pgrecall_no_such_db"), "does not exist"),
        "role": (_with(db_url, user="pgrecall_no_such_role"), "does not exist"),
        "nologin": (_with(db_url, user="pgrecall_nologin"), "not permitted to log in"),
        "port": ("postgresql://pgrecall@127.0.0.1:1/x", "refused"),
        "host": ("postgresql://pgrecall@no-such-host.invalid/x", "no-such-host.invalid"),
    }


@pytest.mark.parametrize("what", ["database", "role", "nologin", "port", "host"])
def test_bad_settings_fail_at_connect_with_the_reason(
    bad_urls: dict[str, tuple[str, str]], what: str
) -> None:
    url, reason = bad_urls[what]
    with pytest.raises(ConfigurationError, match=reason) as err:
        pgrecall.connect(url, pool_timeout=30)
    assert not isinstance(err.value, TransientError)
    assert "cannot connect" in str(err.value)
    assert err.value.sqlstate == SQLSTATES.get(what)


SQLSTATES = {"database": "3D000", "role": "28000", "nologin": "28000"}


@pytest.mark.parametrize("what", ["database", "port"])
async def test_bad_settings_fail_at_connect_async(
    bad_urls: dict[str, tuple[str, str]], what: str
) -> None:
    url, reason = bad_urls[what]
    with pytest.raises(ConfigurationError, match=reason):
        await pgrecall.connect_async(url, pool_timeout=30)
