"""Read replicas against a real streaming standby of the embedded test server.

The standby is made with ``pg_basebackup -R`` from the embedded server's binaries (see
:mod:`pgrecall.testing.standby`). Every wait here is on an observable event (an LSN
replayed, a counter moved), never on a sleep.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

import pgrecall
from pgrecall.testing import ServerHandle, with_database
from pgrecall.testing.standby import Standby, start_standby

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def standby(pg_server: ServerHandle) -> Iterator[Standby]:
    if pg_server.data_dir is None or pg_server.version is None:
        pytest.skip("needs the embedded test server (a standby is cloned from its data directory)")
    where = Path(tempfile.mkdtemp(prefix="pgrecall-standby-"))  # readable by the server's user
    try:
        node = start_standby(pg_server.data_dir, pg_server.version, where)
        yield node
        node.stop("immediate")
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _lsn(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def wait_replayed(standby_url: str, lsn: str) -> None:
    """Block until the standby has replayed ``lsn`` (the server waits, not us)."""
    with psycopg.connect(standby_url, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN WHILE NOT pg_last_wal_replay_lsn() >= %s::pg_lsn LOOP"
            " PERFORM pg_sleep(0.005); END LOOP; END $$".replace("%s", f"'{lsn}'")
        )


@pytest.fixture
def replica_url(standby: Standby, db_url: str) -> str:
    """``db_url`` on the standby, once the standby has the database."""
    wait_replayed(standby.url, _lsn(db_url))
    return with_database(standby.url, urlsplit(db_url).path.lstrip("/"))


@pytest.fixture
def rstore(db_url: str, replica_url: str) -> Iterator[pgrecall.Store]:
    with pgrecall.connect(
        db_url, replicas=[replica_url], pool_min_size=0, pool_max_size=4, replica_wait=5.0
    ) as s:
        yield s


def sql_value(s: pgrecall.Session, query: str) -> object:
    row = s.db.conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def on_standby(s: pgrecall.Session) -> bool:
    return bool(sql_value(s, "SELECT pg_is_in_recovery()"))


def test_read_only_sessions_run_on_the_replica(rstore: pgrecall.Store) -> None:
    with rstore.session("acme") as s:
        c = s.conversations.create(user_id="u1", title="hello")
        assert not on_standby(s)
    with rstore.session("acme", read_only=True) as s:
        assert on_standby(s)
        assert s.conversations.get(c.id).title == "hello"   # read-your-writes
    assert rstore.replicas.used == 1 and rstore.replicas.fallbacks == 0


def test_tenant_isolation_holds_on_the_replica(rstore: pgrecall.Store) -> None:
    with rstore.session("acme") as s:
        c = s.conversations.create(user_id="u1")
    with rstore.session("other", read_only=True) as s:
        assert on_standby(s)
        with pytest.raises(pgrecall.NotFoundError):
            s.conversations.get(c.id)


def test_writes_in_a_read_only_session_are_refused(rstore: pgrecall.Store, db_url: str) -> None:
    refused = pytest.raises(pgrecall.ReadOnlyError, match="read-only session")
    with refused, rstore.session("acme", read_only=True) as s:
        s.conversations.create(user_id="u1")
    with pgrecall.connect(db_url, pool_min_size=0) as primary_only:  # no replicas: same rule
        session = primary_only.session("acme", read_only=True)
        with pytest.raises(pgrecall.ReadOnlyError), session as s:
            s.conversations.create(user_id="u1")
        with primary_only.session("acme") as s:
            assert s.conversations.list("u1") == []   # nothing was written


def test_read_your_writes_under_a_concurrent_writer(rstore: pgrecall.Store, db_url: str) -> None:
    """Each read-only session opened after a commit through the store sees that commit,
    while another process-like writer keeps the standby busy replaying."""
    stop = threading.Event()

    def noise() -> None:
        with pgrecall.connect(db_url, pool_min_size=0, pool_max_size=1) as other:
            with other.session("noise") as s:
                c = s.conversations.create(user_id="n")
            while not stop.is_set():
                other.append_message("noise", c.id, role="user", content="x" * 200)

    writer = threading.Thread(target=noise)
    writer.start()
    try:
        violations = 0
        with rstore.session("acme") as s:
            c = s.conversations.create(user_id="u1")
        for i in range(60):
            rstore.append_message("acme", c.id, role="user", content=f"m{i}")
            with rstore.session("acme", read_only=True) as s:
                last = s.messages.last(c.id, n=1)
                violations += not last or last[0].content != f"m{i}"
    finally:
        stop.set()
        writer.join()
    assert violations == 0
    assert rstore.replicas.used > 0


def test_a_paused_replica_beyond_the_lag_limit_is_skipped(
    db_url: str, replica_url: str, standby: Standby
) -> None:
    with psycopg.connect(standby.url, autocommit=True) as ctl:
        ctl.execute("SELECT pg_wal_replay_pause()")
        try:
            with pgrecall.connect(
                db_url, replicas=[replica_url], pool_min_size=0, max_replica_lag=0.0,
                replica_wait=0.0,
            ) as st:
                with st.session("acme") as s:
                    c = s.conversations.create(user_id="u1", title="fresh")
                # the standby has received the commit but not replayed it: lag > 0
                ctl.execute(
                    "DO $$ BEGIN WHILE pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()"
                    " LOOP PERFORM pg_sleep(0.005); END LOOP; END $$"
                )
                with st.session("acme", read_only=True) as s:
                    assert not on_standby(s)
                    assert s.conversations.get(c.id).title == "fresh"
                assert st.replicas.fallbacks == 1 and st.replicas.used == 0
        finally:
            ctl.execute("SELECT pg_wal_replay_resume()")


def test_a_replica_that_has_not_replayed_our_commit_is_skipped(
    db_url: str, replica_url: str, standby: Standby
) -> None:
    """Read-your-writes without waiting: the paused standby is behind our commit."""
    with psycopg.connect(standby.url, autocommit=True) as ctl:
        ctl.execute("SELECT pg_wal_replay_pause()")
        try:
            with pgrecall.connect(
                db_url, replicas=[replica_url], pool_min_size=0, max_replica_lag=3600,
                replica_wait=0.0,
            ) as st:
                with st.session("acme") as s:
                    c = s.conversations.create(user_id="u1")
                with st.session("acme", read_only=True) as s:
                    assert not on_standby(s)
                    s.conversations.get(c.id)
        finally:
            ctl.execute("SELECT pg_wal_replay_resume()")


def test_a_stopped_replica_falls_back_and_is_retried_later(
    db_url: str, replica_url: str, standby: Standby
) -> None:
    with pgrecall.connect(
        db_url, replicas=[replica_url], pool_min_size=0, replica_retry_after=0.01,
        replica_timeout=0.5,
    ) as st:
        with st.session("acme", read_only=True) as s:
            assert on_standby(s)
        standby.stop("immediate")
        try:
            with st.session("acme") as s:
                c = s.conversations.create(user_id="u1")
            for _ in range(3):  # every call succeeds, on the primary
                with st.session("acme", read_only=True) as s:
                    assert not on_standby(s)
                    s.conversations.get(c.id)
            assert st.replicas.fallbacks == 3
        finally:
            standby.start()
        wait_replayed(standby.url, _lsn(db_url))
        with st.session("acme", read_only=True) as s:   # back on the replica
            assert on_standby(s)
            s.conversations.get(c.id)


def test_a_replica_killed_mid_session_costs_only_that_call(
    db_url: str, replica_url: str, standby: Standby
) -> None:
    with pgrecall.connect(
        db_url, replicas=[replica_url], pool_min_size=0, replica_retry_after=3600
    ) as st:
        with st.session("acme") as s:
            c = s.conversations.create(user_id="u1")
        with pytest.raises(pgrecall.TransientError), st.session("acme", read_only=True) as s:
            pid = sql_value(s, "SELECT pg_backend_pid()")
            with psycopg.connect(standby.url, autocommit=True) as ctl:
                ctl.execute("SELECT pg_terminate_backend(%s)", (pid,))
            s.conversations.get(c.id)
        with st.session("acme", read_only=True) as s:   # the next call works
            assert s.conversations.get(c.id).id == c.id


async def test_async_read_only_sessions(db_url: str, replica_url: str) -> None:
    async with await pgrecall.connect_async(
        db_url, replicas=[replica_url], pool_min_size=0, replica_wait=5.0
    ) as st:
        async with st.session("acme") as s:
            c = await s.conversations.create(user_id="u1", title="async")
        async with st.session("acme", read_only=True) as s:
            cur = await s.db.conn.execute("SELECT pg_is_in_recovery()")
            assert await cur.fetchone() == (True,)
            assert (await s.conversations.get(c.id)).title == "async"
        assert st.replicas.used == 1


def test_health_reports_each_replica(rstore: pgrecall.Store) -> None:
    report = rstore.health(check_migrations=False)
    assert report.replicas is not None and len(report.replicas) == 1
    r = report.replicas[0]
    assert r.status == "ok" and r.lag_seconds is not None and r.lag_seconds >= 0


def test_replica_urls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGRECALL_REPLICA_URLS", "postgres://a@h1/db, postgresql+psycopg://b@h2/db")
    assert pgrecall.Settings().replica_urls == ["postgresql://a@h1/db", "postgresql://b@h2/db"]
    assert pgrecall.Settings(replica_urls=[]).replica_urls == []
    with pytest.raises(pgrecall.ConfigurationError):
        pgrecall.Settings(replica_urls=["mysql://x/y"])



def test_readme_read_replicas_example(db_url: str, replica_url: str) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("### Read replicas")
    (code,) = re.findall(r"```python\n(.*?)```", readme[start : readme.index("\n### ", start + 5)],
                         re.S)
    namespace: dict[str, object] = {"pgrecall": pgrecall, "primary_url": db_url,
                                    "standby_url": replica_url}
    exec(code, namespace)
    store = namespace["store"]
    assert isinstance(store, pgrecall.Store)
    # on the replica when it replayed the write within replica_wait, else on the primary
    assert store.replicas.used + store.replicas.fallbacks == 1
