"""Concurrent appends and a fault-injection run: counters stay exact, nothing duplicates."""

from __future__ import annotations

import threading
import time
from collections import Counter
from uuid import UUID

import psycopg
import pytest

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
        msgs = s.messages.page(cid, limit=10_000)
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
def test_faults_terminate_backends_and_restart_server(
    pg_server: ServerHandle, db_url: str
) -> None:
    """Writers append with request ids while backends are killed and the server restarts."""
    store = pgrecall.connect(db_url, pool_max_size=4, pool_timeout=5)
    cid = create_conversation(store)
    acked: list[str] = []
    unknown_resolved = Counter[str]()
    failures: list[BaseException] = []
    stop = threading.Event()
    deadline = time.monotonic() + 12

    def append(rid: str) -> None:
        with store.session(tenant="acme") as s:
            s.messages.append(cid, role="user", content=rid, request_id=rid)

    def writer(w: int) -> None:
        i = 0
        while not stop.is_set() and time.monotonic() < deadline:
            rid = f"w{w}-{i}"
            attempts = 0

            def once(rid: str = rid) -> None:
                nonlocal attempts
                attempts += 1
                append(rid)

            try:
                pgrecall.retry(once, attempts=30, base_delay=0.05, max_delay=0.5, idempotent=True)
            except PgRecallError as exc:
                failures.append(exc)
                return
            if attempts > 1:
                unknown_resolved["retried"] += 1
            acked.append(rid)
            i += 1

    def killer() -> None:
        restarted = False
        while not stop.is_set():
            time.sleep(0.2)
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
            except psycopg.OperationalError:
                continue  # the server is restarting
            if not restarted and len(acked) > 50 and pg_server.restart is not None:
                pg_server.restart()
                restarted = True
                unknown_resolved["restarts"] += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    chaos = threading.Thread(target=killer)
    for t in [*threads, chaos]:
        t.start()
    for t in threads:
        t.join(timeout=30)
    stop.set()
    chaos.join(timeout=30)
    try:
        assert failures == []
        assert unknown_resolved["kills"] > 5 and unknown_resolved["retried"] > 0
        if pg_server.restart is not None:
            assert unknown_resolved["restarts"] == 1
        rids = check_consistent(store, cid)
        counts = Counter(rids)
        assert [r for r, n in counts.items() if n > 1] == []  # no duplicates
        assert set(acked) <= set(counts)  # every acknowledged append is there
        assert len(acked) > 100
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
    with psycopg.connect(db_url, autocommit=True) as conn:
        return len(
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'pgrecall' AND pid <> pg_backend_pid()"
            ).fetchall()
        )


def test_checkout_check_replaces_a_killed_connection(db_url: str) -> None:
    """A connection idle past pool_check_after is checked: a killed backend costs nothing."""
    with pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1, pool_check_after=0.2) as store:
        cid = create_conversation(store)
        assert _kill_pgrecall_backends(db_url) == 1
        time.sleep(0.3)
        with store.session(tenant="acme") as s:  # checked on checkout, replaced, no error
            assert s.conversations.get(cid).id == cid


def test_recently_used_connection_is_not_checked(db_url: str) -> None:
    """Within the window the check is skipped: the next call fails, transiently, once."""
    with pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1, pool_check_after=60) as store:
        cid = create_conversation(store)
        assert _kill_pgrecall_backends(db_url) == 1
        with pytest.raises(TransientError), store.session(tenant="acme") as s:
            s.conversations.get(cid)
        with store.session(tenant="acme") as s:  # the broken connection was discarded
            assert s.conversations.get(cid).id == cid
