"""Runs: the status machine in SQL, idempotent create, claim with SKIP LOCKED, recovery."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from uuid import UUID

import pytest

import pgrecall
from pgrecall import ConflictError, NotFoundError, ValidationError
from pgrecall.models.ops import Run

Q_STALE = pgrecall.Query.from_string(
    "age_heartbeat",
    "exec",
    "UPDATE pgrecall.runs SET heartbeat_at = now() - interval '1 hour' WHERE id = :id",
)


def test_lifecycle_and_usage(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        run = s.runs.create(
            "research",
            input={"q": "ISO 9001?"},
            conversation_id=c.id,
            user_id="u2",
            provider="openai",
            request_id="req-1",
            trace_id="t-1",
        )
        assert run.status == "pending" and run.attempts == 0 and run.started_at is None
        assert s.users.get("u2").user_id == "u2"  # created on first use
        claimed = s.runs.claim_next("research", worker_id="w1")
        assert claimed is not None and claimed.id == run.id
        assert claimed.status == "running" and claimed.attempts == 1
        assert claimed.started_at is not None and claimed.heartbeat_at is not None
        assert s.runs.heartbeat(run.id, worker_id="w1").status == "running"
        done = s.runs.succeed(
            run.id,
            {"answer": 42},
            worker_id="w1",
            model="gpt-x",
            input_tokens=100,
            output_tokens=20,
            cost=0.0123,
        )
        assert done.status == "succeeded" and done.output == {"answer": 42}
        assert done.cost == Decimal("0.012300") and done.model == "gpt-x"
        assert done.finished_at is not None and done.duration_ms is not None
        assert done.duration_ms >= 0 and done.provider == "openai"
        assert [r.id for r in s.runs.list(kind="research", statuses=["succeeded"])] == [run.id]
        assert s.runs.list(conversation_id=c.id)[0].id == run.id
        assert s.runs.list(user_id="u1") == []


def test_create_is_idempotent_by_request_id(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        first = s.runs.create("tool", request_id="r-1", input={"n": 1})
        again = s.runs.create("tool", request_id="r-1", input={"n": 2})
        assert again == first and s.runs.by_request_id("r-1") == first
    with store.session(tenant="other") as s:  # request ids are per tenant
        assert s.runs.create("tool", request_id="r-1").id != first.id


ILLEGAL = [
    ([], "succeeded"),  # pending -> succeeded
    ([], "failed"),  # pending -> failed
    (["running", "succeeded"], "running"),  # final
    (["running", "succeeded"], "pending"),
    (["cancelled"], "running"),
    (["running", "cancelled"], "pending"),
]


def test_illegal_transitions_raise_conflict_from_sql(store: pgrecall.Store) -> None:
    moves: dict[str, Callable[[pgrecall.Session, UUID], Run]] = {
        "running": lambda s, i: s.runs.start(i),
        "succeeded": lambda s, i: s.runs.succeed(i),
        "failed": lambda s, i: s.runs.fail(i, "boom"),
        "cancelled": lambda s, i: s.runs.cancel(i),
        "pending": lambda s, i: s.runs.retry(i),
    }
    for path, illegal in ILLEGAL:
        with store.session(tenant="acme") as s:
            run = s.runs.create("x")
            for step in path:
                moves[step](s, run.id)
        with (
            pytest.raises(ConflictError, match="cannot become") as err,
            store.session(tenant="acme") as s,
        ):
            moves[illegal](s, run.id)
        assert err.value.sqlstate == "PR409", (path, illegal)


def test_direct_sql_cannot_skip_the_machine(store: pgrecall.Store) -> None:
    upd = pgrecall.Query.from_string(
        "u", "exec", "UPDATE pgrecall.runs SET status = 'succeeded' WHERE id = :id"
    )
    with store.session(tenant="acme") as s:
        run = s.runs.create("x")
    with (
        pytest.raises(ConflictError, match="pending: cannot become succeeded"),
        store.session(tenant="acme") as s,
    ):
        s.db.execute(upd, id=run.id)


def test_fail_retry_and_attempts(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        run = s.runs.create("analysis", max_attempts=2)
        s.runs.claim_next("analysis", worker_id="w")
        again = s.runs.fail(run.id, "rate limited", worker_id="w", retry=True)
        assert again.status == "pending" and again.error == "rate limited"
        assert again.started_at is None
        s.runs.claim_next("analysis", worker_id="w")
        final = s.runs.fail(run.id, "still failing", worker_id="w", retry=True)
        assert final.status == "failed" and final.attempts == 2  # attempts spent
        assert s.runs.retry(run.id).status == "pending"  # an operator's explicit retry
        delayed = s.runs.create("later", max_attempts=3)
        s.runs.claim_next("later")
        s.runs.fail(delayed.id, "wait", retry=True, retry_delay=3600)
        assert s.runs.claim_next("later") is None  # not available for an hour


def test_worker_ownership(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        run = s.runs.create("x")
        s.runs.claim_next("x", worker_id="w1")
        with pytest.raises(ConflictError, match="held by worker w1"):
            s.runs.succeed(run.id, worker_id="w2")
        with pytest.raises(ConflictError, match="not running for this worker"):
            s.runs.heartbeat(run.id, worker_id="w2")
        with pytest.raises(NotFoundError):
            s.runs.succeed("01890000-0000-7000-8000-000000000000")


def test_priority_then_age(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        low = s.runs.create("x")
        high = s.runs.create("x", priority=5)
        low2 = s.runs.create("x")
        s.runs.create("other")
        order = [s.runs.claim_next("x") for _ in range(4)]
        assert [r.id if r else None for r in order] == [high.id, low.id, low2.id, None]


def test_stale_running_runs_are_requeued(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        a = s.runs.create("x", max_attempts=1)
        b = s.runs.create("x")
        fresh = s.runs.create("x")
        for _ in range(3):
            s.runs.claim_next("x", worker_id="dead")
        s.db.execute(Q_STALE, id=a.id)
        s.db.execute(Q_STALE, id=b.id)
        moved = {r.id: r for r in s.runs.requeue_stale(stale_after=60)}
        assert set(moved) == {a.id, b.id}
        assert moved[a.id].status == "failed"  # no attempts left
        assert moved[b.id].status == "pending" and "stopped heart-beating" in (
            moved[b.id].error or ""
        )
        assert s.runs.get(fresh.id).status == "running"
        assert s.runs.claim_next("x", worker_id="w2") == s.runs.get(b.id)


def test_two_workers_never_claim_the_same_run(store: pgrecall.Store) -> None:
    n_runs, n_workers = 40, 4
    with store.session(tenant="acme") as s:
        for i in range(n_runs):
            s.runs.create("job", input={"i": i})
    claimed: list[Run] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n_workers)

    def worker(name: str) -> None:
        barrier.wait()
        while True:
            with store.session(tenant="acme") as s:
                run = s.runs.claim_next("job", worker_id=name)
                if run is None:
                    return
                with lock:
                    claimed.append(run)
                s.runs.succeed(run.id, worker_id=name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r.id for r in claimed]
    assert len(ids) == n_runs and len(set(ids)) == n_runs
    assert len({r.worker_id for r in claimed}) > 1  # the work was actually shared
    with store.session(tenant="acme") as s:
        assert {r.status for r in s.runs.list(limit=100)} == {"succeeded"}


BAD = [
    ({"kind": ""}, "kind"),
    ({"kind": "x", "request_id": ""}, "request_id"),
    ({"kind": "x", "input": {"v": float("inf")}}, "inf"),
    ({"kind": "x", "priority": 2**40}, "priority"),
    ({"kind": "x", "max_attempts": 0}, "max_attempts"),
    ({"kind": "x", "metadata": {"k": "\x00"}}, "NUL"),
]


def test_bad_input_is_rejected_before_sql(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        for kwargs, error in BAD:
            with pytest.raises(ValidationError, match=error):
                s.runs.create(**kwargs)  # type: ignore[arg-type]
        assert s.runs.list() == []


async def test_async_claim_and_finish(astore: pgrecall.AsyncStore) -> None:
    async with astore.session(tenant="acme") as s:
        run = await s.runs.create("async")
        claimed = await s.runs.claim_next("async", worker_id="aw")
        assert claimed is not None and claimed.id == run.id
        assert (await s.runs.cancel(run.id)).status == "cancelled"
