"""Issue 10.9: pgrecall.retry recovers from a server restart; the pool does not hand out
its dead connections after one failed."""

from __future__ import annotations

from contextlib import ExitStack

import psycopg
import pytest

import pgrecall
from pgrecall import TransientError
from pgrecall.testing import ServerHandle


def _recently_returned(store: pgrecall.Store, n: int) -> None:
    """Leave ``n`` connections in the pool, all just returned (no checkout check)."""
    with ExitStack() as stack:
        for _ in range(n):
            stack.enter_context(store.session(tenant="acme"))


def test_lost_connection_inside_a_session_is_a_safe_retry(
    store: pgrecall.Store, db_url: str
) -> None:
    for read_only in (False, True):
        with (
            pytest.raises(TransientError) as err,
            store.session(tenant="acme", read_only=read_only) as s,
        ):
            with psycopg.connect(db_url, autocommit=True) as admin:
                pid = s.db.conn.info.backend_pid
                admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
            s.users.list()
        assert err.value.outcome_unknown is False  # not committed: rolled back
    with store.session(tenant="acme") as s:
        assert s.users.list() == []


def test_killed_idle_connections_are_not_handed_out(db_url: str) -> None:
    with pgrecall.connect(db_url, pool_min_size=0, pool_max_size=3, pool_check_after=600) as store:
        _recently_returned(store, 3)
        with psycopg.connect(db_url, autocommit=True) as admin:
            killed = admin.execute(  # each call returns once its backend has exited
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE application_name = 'pgrecall' AND pid <> pg_backend_pid()"
            ).fetchall()
        assert killed == [(True,)] * 3
        for _ in range(4):  # no call fails: each dead connection is noticed and replaced
            with store.session(tenant="acme") as s:
                assert s.users.list() == []


@pytest.mark.slow
def test_retry_recovers_from_a_server_restart(pg_server: ServerHandle, db_url: str) -> None:
    if pg_server.restart is None:
        pytest.skip("the test server is not ours to restart")
    with pgrecall.connect(db_url, pool_min_size=0, pool_max_size=4, pool_check_after=600) as store:
        _recently_returned(store, 4)
        pg_server.restart()

        def read() -> list[pgrecall.models.User]:
            with store.session(tenant="acme", read_only=True) as s:
                return s.users.list()

        assert pgrecall.retry(read) == []  # not idempotent: only safe retries
        for _ in range(4):  # and no more dead connections to hand out
            with store.session(tenant="acme") as s:
                s.users.upsert("u")
