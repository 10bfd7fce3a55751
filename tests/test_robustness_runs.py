"""Issue 10.1: every move the run lifecycle forbids raises ConflictError, from every path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

import pgrecall
from pgrecall import ConflictError
from pgrecall.models.ops import Run


def _running(s: pgrecall.Session) -> Run:
    s.runs.create("job")
    run = s.runs.claim_next("job", worker_id="w")
    assert run is not None
    return run


def _pending(s: pgrecall.Session) -> Run:
    return s.runs.create("job")


def _succeeded(s: pgrecall.Session) -> Run:
    return s.runs.succeed(_running(s).id, {"v": 1}, worker_id="w")


def _failed(s: pgrecall.Session) -> Run:
    return s.runs.fail(_running(s).id, "boom", worker_id="w")


def _cancelled(s: pgrecall.Session) -> Run:
    return s.runs.cancel(_pending(s).id)


STATES: dict[str, Callable[[pgrecall.Session], Run]] = {
    "pending": _pending,
    "running": _running,
    "succeeded": _succeeded,
    "failed": _failed,
    "cancelled": _cancelled,
}
MOVES: dict[str, Callable[[pgrecall.Session, Run], Any]] = {
    "start": lambda s, r: s.runs.start(r.id, worker_id="w"),
    "succeed": lambda s, r: s.runs.succeed(r.id, {"v": 2}, worker_id="w"),
    "succeed_anyone": lambda s, r: s.runs.succeed(r.id, {"v": 2}),
    "fail": lambda s, r: s.runs.fail(r.id, "again", worker_id="w"),
    "fail_retry": lambda s, r: s.runs.fail(r.id, "again", worker_id="w", retry=True),
    "cancel": lambda s, r: s.runs.cancel(r.id),
    "retry": lambda s, r: s.runs.retry(r.id),
}
ALLOWED = {
    ("pending", "start"),
    ("pending", "cancel"),
    ("running", "succeed"),
    ("running", "succeed_anyone"),
    ("running", "fail"),
    ("running", "fail_retry"),
    ("running", "cancel"),
    ("running", "retry"),
    ("failed", "retry"),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("move", list(MOVES))
def test_every_forbidden_move_is_a_conflict_and_writes_nothing(
    store: pgrecall.Store, state: str, move: str
) -> None:
    with store.session(tenant="acme") as s:
        run = STATES[state](s)
        if (state, move) in ALLOWED:
            MOVES[move](s, run)
            return
        before = s.runs.get(run.id)
    with store.session(tenant="acme") as s:
        with pytest.raises(ConflictError) as err:
            MOVES[move](s, before)
        assert err.value.sqlstate == "PR409"
        assert state in str(err.value)
    with store.session(tenant="acme") as s:
        after = s.runs.get(run.id)
    assert after == before


@pytest.mark.parametrize("state", ["succeeded", "cancelled"])
def test_raw_sql_cannot_rewrite_a_finished_run(
    store: pgrecall.Store, db_url: str, state: str
) -> None:
    with store.session(tenant="acme") as s:
        run = STATES[state](s)
    with psycopg.connect(db_url) as conn:
        with pytest.raises(psycopg.Error) as err:
            conn.execute(
                "UPDATE pgrecall.runs SET output = '{\"v\": 3}', status = status WHERE id = %s",
                (run.id,),
            )
        assert err.value.sqlstate == "PR409"


def test_finished_run_keeps_links_cleared_by_deletes(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        run = s.runs.create("job", conversation_id=c.id, user_id="u1")
        s.runs.claim_next("job", worker_id="w")
        s.runs.succeed(run.id, {"v": 1}, worker_id="w")
        s.users.delete("u1")
        assert s.runs.get(run.id).user_id is None
