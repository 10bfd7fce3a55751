"""store.chat_turn: append + context (+ memories) in one round trip, idempotent."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import pq

import pgrecall
from pgrecall.areas.turns import MemoryRecall
from pgrecall.errors import ConflictError, ValidationError
from pgrecall.models.knowledge import ChatTurn

MODEL = "mini"


def _conversation(store: pgrecall.Store, history: int = 0, tenant: str = "acme") -> str:
    with store.session(tenant=tenant) as s:
        c = s.conversations.create(user_id="u1")
        s.messages.append(c.id, role="system", content="be brief", token_count=5)
        for i in range(history):
            s.messages.append(
                c.id, role="user" if i % 2 else "assistant", content=f"m{i}", token_count=10
            )
    return str(c.id)


@contextmanager
def round_trips(conn: psycopg.Connection[object]) -> Iterator[list[int]]:
    """Count the server's ReadyForQuery messages (one per round trip) on ``conn``."""
    found: list[int] = []
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "trace"
        with path.open("w") as f:
            conn.pgconn.trace(f.fileno())
            conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                yield found
            finally:
                conn.pgconn.untrace()
        text = path.read_text()
    found.append(sum("ReadyForQuery" in line for line in text.splitlines()))


def test_turn_stores_the_message_and_returns_the_window(store: pgrecall.Store) -> None:
    cid = _conversation(store, history=30)
    turn = store.chat_turn("acme", cid, role="user", content="hello", token_count=3)
    assert isinstance(turn, ChatTurn) and turn.memories == []
    assert turn.message.content == "hello" and turn.message.seq == 32
    with store.session(tenant="acme") as s:
        assert turn.context == s.messages.last(cid, 20)
        assert s.messages.get(turn.message.id) == turn.message
    assert turn.context[-1] == turn.message and len(turn.context) == 20
    short = store.chat_turn("acme", cid, role="assistant", content="hi", last=3)
    assert [m.content for m in short.context] == ["m29", "hello", "hi"]


def test_token_budgeted_window(store: pgrecall.Store) -> None:
    cid = _conversation(store, history=10)
    turn = store.chat_turn("acme", cid, role="user", content="q", token_count=10, max_tokens=36)
    with store.session(tenant="acme") as s:
        assert turn.context == s.messages.context(cid, max_tokens=36, max_messages=20)
    # the system prompt (5 tokens) is kept, then the newest that fit 31 tokens: 3 x 10
    assert turn.context[0].role == "system"
    assert [m.content for m in turn.context[1:]] == ["m8", "m9", "q"]
    capped = store.chat_turn("acme", cid, role="user", content="r", max_tokens=1000, last=2)
    assert [m.content for m in capped.context] == ["be brief", "q", "r"]


def test_request_id_makes_the_turn_idempotent(store: pgrecall.Store) -> None:
    cid = _conversation(store, history=2)
    first = store.chat_turn("acme", cid, role="user", content="once", request_id="r-1")
    store.chat_turn("acme", cid, role="assistant", content="answer")
    again = store.chat_turn("acme", cid, role="user", content="once", request_id="r-1")
    assert again.message == first.message
    # a current context: it has the answer stored after the first attempt
    assert [m.content for m in again.context][-2:] == ["once", "answer"]
    with store.session(tenant="acme") as s:
        assert s.conversations.get(cid).message_count == 5
        assert [m.content for m in s.messages.last(cid, 10)].count("once") == 1


def test_failed_turn_writes_nothing(store: pgrecall.Store) -> None:
    cid = _conversation(store, history=1)
    with store.session(tenant="acme") as s:
        s.conversations.close(cid)
    with pytest.raises(ConflictError):
        store.chat_turn("acme", cid, role="user", content="too late")
    with pytest.raises(ValidationError):
        store.chat_turn("acme", cid, role="user", content="x", last=0)
    with pytest.raises(ValidationError):
        store.chat_turn("acme", cid, role="user", content="x", max_tokens=-1)
    with store.session(tenant="acme") as s:
        assert [m.content for m in s.messages.last(cid, 10)] == ["be brief", "m0"]
    # the pooled connection is back in its normal (transactional) mode
    with store.connection() as db:
        assert db.conn.autocommit is False


def test_other_tenant_cannot_append(app_store: pgrecall.Store, store: pgrecall.Store) -> None:
    cid = _conversation(store, history=1)
    with pytest.raises(pgrecall.errors.PgRecallError):
        app_store.chat_turn("other", cid, role="user", content="sneaky")
    with store.session(tenant="acme") as s:
        assert len(s.messages.last(cid, 10)) == 2


def test_one_round_trip_for_turn_and_append(db_url: str) -> None:
    with pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1, pool_check_after=3600) as st:
        cid = _conversation(st, history=3)
        with st.connection() as db:
            conn = db.conn
        with round_trips(conn) as n:
            turn = st.chat_turn("acme", cid, role="user", content="one trip", request_id="a")
        assert n == [1] and turn.context[-1].content == "one trip"
        with round_trips(conn) as n:
            st.chat_turn("acme", cid, role="user", content="budget", max_tokens=100)
        assert n == [1]
        with round_trips(conn) as n:
            st.append_message("acme", cid, role="user", content="append alone")
        assert n == [1]
        with round_trips(conn) as n, st.session(tenant="acme") as s:  # a session: more
            s.messages.last(cid, 2)
        assert n[0] > 1


def test_window_with_memories(store: pgrecall.Store) -> None:
    cid = _conversation(store, history=3)
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        tea = s.memories.add("likes tea", user_id="u1", embedding=[1, 0, 0], model=MODEL)
        s.memories.add("has a cat", user_id="u1", embedding=[0, 1, 0], model=MODEL)
        s.memories.add("someone else", user_id="u2", embedding=[1, 0, 0], model=MODEL)
    recall = MemoryRecall([0.9, 0.1, 0], model=MODEL, k=1)
    turn = store.chat_turn("acme", cid, role="user", content="tea?", memories=recall)
    assert [m.id for m in turn.memories] == [tea.id]
    assert turn.memories[0].access_count == 1  # counted as recalled, as s.memories.recall
    assert turn.context[-1] == turn.message
    again = store.chat_turn("acme", cid, role="user", content="tea?", memories=recall)
    assert again.memories[0].access_count == 2


def test_memories_follow_a_redeclared_model(store: pgrecall.Store) -> None:
    """The recall model's dimension is cached per process; a change made elsewhere is
    caught by the guard in the pipeline, and nothing is written twice."""
    cid = _conversation(store)
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        s.memories.add("three", user_id="u1", embedding=[1, 0, 0], model=MODEL)
    three = MemoryRecall([1, 0, 0], model=MODEL, k=5)
    assert len(store.chat_turn("acme", cid, role="user", content="a", memories=three).memories)
    with psycopg.connect(store.url, autocommit=True) as other:  # another process, say
        other.execute("DELETE FROM pgrecall.memories WHERE model = %s", (MODEL,))
        other.execute("DELETE FROM pgrecall.embedding_models WHERE name = %s", (MODEL,))
        other.execute(
            "INSERT INTO pgrecall.embedding_models (tenant_id, name, dimensions)"
            " VALUES ('acme', %s, 4)", (MODEL,),
        )
    with store.session(tenant="acme") as s:
        four = s.memories.add("four", user_id="u1", embedding=[0, 0, 0, 1], model=MODEL)
    with pytest.raises(ValidationError, match="4"):
        store.chat_turn("acme", cid, role="user", content="b", memories=three)
    turn = store.chat_turn(
        "acme", cid, role="user", content="c", memories=MemoryRecall([0, 0, 0, 1], model=MODEL)
    )
    assert [m.id for m in turn.memories] == [four.id]
    with store.session(tenant="acme") as s:
        assert [m.content for m in s.messages.last(cid, 10)] == ["be brief", "a", "c"]


async def test_async_turn_matches_sync(astore: pgrecall.AsyncStore, store: pgrecall.Store) -> None:
    cid = _conversation(store, history=4)
    turn = await astore.chat_turn("acme", cid, role="user", content="async", request_id="x")
    again = await astore.chat_turn("acme", cid, role="user", content="async", request_id="x")
    assert again.message == turn.message
    with store.session(tenant="acme") as s:
        assert turn.context == s.messages.last(cid, 20)
    synced = store.chat_turn("acme", cid, role="user", content="async", request_id="x")
    assert synced.message == turn.message and synced.context == again.context
    budget = await astore.chat_turn("acme", cid, role="user", content="b", max_tokens=25)
    with store.session(tenant="acme") as s:
        assert budget.context == s.messages.context(cid, max_tokens=25, max_messages=20)
    assert budget.context[-1] == budget.message and budget.context[0].role == "system"
