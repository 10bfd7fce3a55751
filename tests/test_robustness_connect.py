"""Issue 10.2 / 10.3: bad connection settings and an unmigrated database say what is wrong."""

from __future__ import annotations

import psycopg
import pytest

import pgrecall
from pgrecall import ConfigurationError


def test_unmigrated_database_says_to_migrate(empty_db_url: str) -> None:
    with pgrecall.connect(empty_db_url, pool_min_size=0) as store:
        with pytest.raises(ConfigurationError, match="pgrecall migrate") as err:
            with store.session(tenant="acme") as s:
                s.users.list()
    assert err.value.sqlstate == "42P01"
    assert "yoyo apply" in str(err.value) and "pgrecall.users" in str(err.value)


def test_missing_migration_function_says_to_migrate(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DROP FUNCTION pgrecall.require_conversation(text, uuid)")
    with pgrecall.connect(db_url, pool_min_size=0) as store:
        with pytest.raises(ConfigurationError, match="pgrecall migrate") as err:
            with store.session(tenant="acme") as s:
                s.messages.last(s.conversations.create("u").id)
    assert err.value.sqlstate == "42883"
