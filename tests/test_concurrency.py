"""Concurrent appends and a fault-injection run: counters stay exact, nothing duplicates."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg_pool import ConnectionPool

import pgrecall
from pgrecall import PgRecallError, TransientError
from pgrecall.testing import ServerHandle


def create_conversation(store: pgrecall.Store, tenant: str = "acme") -> UUID:
    with store.session(tenant=tenant) as s:
        return s.conversations.create(user_id="u1").id


def check_consistent(store: pgrecall.Store, cid: UUID, tenant: str = "acme") -> list[str]:
    """Counters match the rows, seq is 1..n; returns the request ids in seq order."""
    with store.session(tenant=tenant) as s:
        conv = s.conversations.get(cid)
        msgs: list[pgrecall.models.Message] = []
        while batch := s.messages.page(cid, after_seq=msgs[-1].seq if msgs else 0, limit=1000):
            msgs += batch  # every row, however many the writers managed
    assert conv.message_count == len(msgs)
    assert [m.seq for m in msgs] == list(range(1, len(msgs) + 1))
    assert conv.last_message_at == (msgs[-1].created_at if msgs else None)
    return [m.request_id or "" for m in msgs]


def test_eight_threads_append_to_one_conversation(db_url: str) -> None:
    with pgrecall.connect(db_url, pool_max_size=8) as store:
        cid = create_conversation(store)
        errors: list[BaseException] = []

        def writer(w: int) -> None:
            try:
                for i in range(40):
                    with store.session(tenant="acme") as s:
                        s.messages.append(cid, role="user", content="x", request_id=f"{w}-{i}")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        rids = check_consistent(store, cid)
        assert len(rids) == 320 and len(set(rids)) == 320


@pytest.mark.slow
def test_faults_terminate_backends_and_restart_server(pg_server: ServerHandle, db_url: str) -> None:
    """Writers append with request ids while backends are killed and the server restarts.

    Paced by progress, not by the clock: before each fault the writers must acknowledge
    more appends, and the run ends a number of faults later (the guard of a wait only
    turns a hang into a failure)."""
    store = pgrecall.connect(db_url, pool_max_size=4, pool_timeout=5)
    cid = create_conversation(store)
    acked: list[str] = []
    unknown_resolved = Counter[str]()
    failures: list[BaseException] = []
    stop = threading.Event()
    progress = threading.Condition()

    def append(rid: str) -> None:
        with store.session(tenant="acme") as s:
            s.messages.append(cid, role="user", content=rid, request_id=rid)

    def writer(w: int) -> None:
        i = 0
        while not stop.is_set():
            rid = f"w{w}-{i}"
            attempts = 0

            def once(rid: str = rid) -> None:
                nonlocal attempts
                attempts += 1
                append(rid)

            try:
                pgrecall.retry(once, attempts=30, base_delay=0.05, max_delay=0.5, idempotent=True)
            except PgRecallError as exc:
                with progress:
                    failures.append(exc)
                    progress.notify_all()
                return
            with progress:
                if attempts > 1:
                    unknown_resolved["retried"] += 1
                acked.append(rid)
                progress.notify_all()
            i += 1

    def more_acks(n: int) -> None:
        """Wait until the writers acknowledged ``n`` more appends (or one gave up)."""
        with progress:
            goal = len(acked) + n
            if not progress.wait_for(lambda: len(acked) >= goal or bool(failures), 300):
                failures.append(AssertionError(f"no progress: {len(acked)} acked"))

    def kill_one() -> int:
        try:
            with psycopg.connect(db_url, autocommit=True, connect_timeout=2) as conn:
                # one established backend at a time, mid-statement or mid-transaction
                # when possible (a kill during connect only exercises the pool)
                killed = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'pgrecall'"
                    " AND backend_start < now() - interval '300 ms'"
                    " ORDER BY state = 'idle' LIMIT 1"
                ).fetchall()
                unknown_resolved["kills"] += len(killed)
                return len(killed)
        except psycopg.OperationalError:
            return 0  # the server is restarting

    def chaos() -> None:
        try:
            for fault in range(16):
                more_acks(8)
                if failures:
                    return
                if fault == 8 and pg_server.restart is not None:
                    pg_server.restart()
                    unknown_resolved["restarts"] += 1
                else:
                    while not kill_one() and not failures:
                        more_acks(1)  # no established backend yet: after the next append
            more_acks(20)  # recovered after the last fault
        finally:
            stop.set()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    killer = threading.Thread(target=chaos)
    for t in [*threads, killer]:
        t.start()
    killer.join()
    for t in threads:
        t.join()
    try:
        assert failures == []
        assert unknown_resolved["kills"] >= 15 and unknown_resolved["retried"] > 0
        if pg_server.restart is not None:
            assert unknown_resolved["restarts"] == 1
        rids = check_consistent(store, cid)
        counts = Counter(rids)
        assert [r for r, n in counts.items() if n > 1] == []  # no duplicates
        assert set(acked) <= set(counts)  # every acknowledged append is there
        assert len(acked) >= 16 * 8 + 20
        print(f"fault run: {len(acked)} acked appends, {dict(unknown_resolved)}")
    finally:
        store.close()


def test_retry_gives_up_on_unknown_outcome_when_not_idempotent() -> None:
    calls = 0

    def lost() -> None:
        nonlocal calls
        calls += 1
        err = TransientError("connection lost")
        err.outcome_unknown = True
        raise err

    with pytest.raises(TransientError):
        pgrecall.retry(lost, attempts=5, base_delay=0)
    assert calls == 1
    calls = 0
    with pytest.raises(TransientError):
        pgrecall.retry(lost, attempts=3, base_delay=0, idempotent=True)
    assert calls == 3


def test_retry_retries_serialization_failures_only() -> None:
    seen: list[int] = []

    def flaky() -> int:
        seen.append(1)
        if len(seen) < 3:
            raise TransientError("could not serialize access", sqlstate="40001")
        return 42

    assert pgrecall.retry(flaky, base_delay=0) == 42 and len(seen) == 3

    def broken() -> None:
        seen.append(1)
        raise pgrecall.ConflictError("duplicate key", sqlstate="23505")

    seen.clear()
    with pytest.raises(pgrecall.ConflictError):
        pgrecall.retry(broken, base_delay=0)
    assert len(seen) == 1


def _kill_pgrecall_backends(db_url: str) -> int:
    """Terminate the store's backends; returns once they have exited."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        return len(
            conn.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE application_name = 'pgrecall' AND pid <> pg_backend_pid()"
            ).fetchall()
        )


def test_checkout_check_replaces_a_killed_connection(db_url: str) -> None:
    """A connection idle past pool_check_after is checked: a killed backend costs nothing."""
    # pool_check_after=0: every checkout is past the window, without waiting for it to pass
    with pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1, pool_check_after=0) as store:
        cid = create_conversation(store)
        assert _kill_pgrecall_backends(db_url) == 1
        with store.session(tenant="acme") as s:  # checked on checkout, replaced, no error
            assert s.conversations.get(cid).id == cid


def test_recently_used_connection_is_checked_only_when_its_socket_says_so(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the window a live connection is handed out without the check's round trip;
    one whose backend is gone (its FATAL message waits on the socket) is checked and
    replaced, so the next call does not fail (issue 10.9)."""
    checked: list[psycopg.Connection[Any]] = []
    real = ConnectionPool.check_connection

    def counting(conn: psycopg.Connection[Any]) -> None:
        checked.append(conn)
        real(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counting))
    with pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1, pool_check_after=60) as store:
        cid = create_conversation(store)
        checked.clear()
        with store.session(tenant="acme") as s:
            s.conversations.get(cid)
        assert checked == []  # returned moments ago, socket quiet: no check
        assert _kill_pgrecall_backends(db_url) == 1
        with store.session(tenant="acme") as s:  # the dead one was checked and replaced
            assert s.conversations.get(cid).id == cid
        assert checked and checked[0].broken  # the killed one, checked on checkout
