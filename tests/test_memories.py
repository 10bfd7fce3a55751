"""Long-term memories: storage, recall scoring, sweeps and context with memory (issue 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

import pgrecall
from pgrecall import Query, ValidationError

MODEL = "mini"
AGE = Query.from_string(
    "age",
    "exec",
    "UPDATE pgrecall.memories SET created_at = now() - make_interval(days => :days),"
    " last_accessed_at = NULL WHERE tenant_id = :tenant_id AND id = :id",
)


def age(s: pgrecall.Session, memory_id: UUID, days: float) -> None:
    """Pretend the memory was created ``days`` ago and never recalled."""
    assert s.db.execute(AGE, tenant_id=s.tenant, id=memory_id, days=days) == 1


def test_memory_crud_and_links(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        c = s.conversations.create(user_id="u1")
        msg = s.messages.append(c.id, role="user", content="I prefer green tea")
        m = s.memories.add(
            "prefers green tea", kind="preference", importance=0.8, user_id="u9",
            conversation_id=c.id, message_id=msg.id, embedding=[0, 1, 0], model=MODEL,
            metadata={"source": "chat"},
        )  # fmt: skip
        assert (m.kind, m.importance, m.user_id, m.dimensions) == ("preference", 0.8, "u9", 3)
        assert m.access_count == 0 and m.last_accessed_at is None and m.expires_at is None
        assert s.users.get("u9").user_id == "u9"  # created on first use
        plain = s.memories.add("the office is in Oslo")
        assert plain.model is None and plain.kind == "fact" and plain.importance == 0.5
        later = datetime.now(UTC) + timedelta(days=1)
        up = s.memories.update(
            m.id, content="prefers green tea, no sugar", importance=0.9, expires_at=later,
            metadata_patch={"checked": True},
        )  # fmt: skip
        assert up.content == "prefers green tea, no sugar" and up.expires_at == later
        assert up.metadata == {"source": "chat", "checked": True} and up.importance == 0.9
        s.embeddings.declare_model("other", dimensions=2)
        moved = s.memories.update(plain.id, embedding=[1, 1], model="other")
        assert (moved.model, moved.dimensions) == ("other", 2)
        assert [x.id for x in s.memories.list(user_id="u9")] == [m.id]
        assert [x.id for x in s.memories.list(kinds=["fact"])] == [plain.id]
        page = s.memories.list(limit=1)
        assert page[0].id == plain.id
        assert [x.id for x in s.memories.list(after=page[0])] == [m.id]
        s.conversations.purge(c.id)  # the memory outlives its conversation
        kept = s.memories.get(m.id)
        assert kept.conversation_id is None and kept.message_id is None
        for bad in (
            dict(importance=1.5), dict(kind="dream"), dict(embedding=[1, 0, 0]),
            dict(expires_at=datetime(2030, 1, 1)), dict(embedding=[1, 0], model=MODEL),
        ):  # fmt: skip
            with pytest.raises(ValidationError):
                s.memories.add("x", **bad)
        with pytest.raises(ValidationError):
            s.memories.add("")
        assert s.memories.forget(plain.id) is True and s.memories.forget(plain.id) is False
        assert s.memories.forget_user("u9") == 1 and s.memories.list() == []


def test_recall_orders_by_relevance_importance_and_recency(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        same = [1.0, 0.0, 0.0]  # equal relevance: only importance and recency differ
        old = s.memories.add("old but important", importance=0.9, embedding=same, model=MODEL)
        mid = s.memories.add("a week old", importance=0.5, embedding=same, model=MODEL)
        new = s.memories.add("new, unimportant", importance=0.1, embedding=same, model=MODEL)

        def recall(importance_weight: float = 0.5, recency_weight: float = 0.5) -> list[str]:
            age(s, old.id, 30)
            age(s, mid.id, 7)
            age(s, new.id, 0)
            found = s.memories.recall(
                same, 3, model=MODEL, half_life=timedelta(days=7),
                importance_weight=importance_weight, recency_weight=recency_weight,
            )  # fmt: skip
            return [m.content for m in found]

        # 1 + 0.5 x importance + 0.5 x 0.5 ^ (age / 7 days)
        assert recall() == ["new, unimportant", "a week old", "old but important"]
        assert recall(importance_weight=1, recency_weight=0) == [
            "old but important", "a week old", "new, unimportant"
        ]  # fmt: skip
        assert recall(importance_weight=0, recency_weight=1) == [
            "new, unimportant", "a week old", "old but important"
        ]  # fmt: skip
        age(s, mid.id, 7)
        (r,) = s.memories.recall(same, 1, model=MODEL, importance_weight=0, recency_weight=0,
                                 kinds=["fact"], candidates=1)  # fmt: skip
        assert r.relevance == pytest.approx(1.0) and r.distance == pytest.approx(0.0, abs=1e-6)
        age(s, mid.id, 7)
        (r,) = [m for m in s.memories.recall(same, 3, model=MODEL) if m.id == mid.id]
        assert r.recency == pytest.approx(0.5, abs=1e-3)
        assert r.score == pytest.approx(1.0 + 0.5 * 0.5 + 0.5 * 0.5, abs=1e-3)
        # Relevance: same importance and age, different directions.
        near = s.memories.add("near", embedding=[0, 1, 0.1], model=MODEL, kind="episodic")
        far = s.memories.add("far", embedding=[0, 0.1, 1], model=MODEL, kind="episodic")
        found = s.memories.recall([0, 1, 0], 2, model=MODEL, kinds=["episodic"])
        assert [m.id for m in found] == [near.id, far.id]
        assert found[0].relevance > found[1].relevance


def test_recall_counts_access_in_the_same_statement(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        m = s.memories.add("likes tea", embedding=[1, 0, 0], model=MODEL)
    for expected in (1, 2):
        with store.session(tenant="acme") as s:
            (r,) = s.memories.recall([1, 0, 0], model=MODEL)
            assert r.access_count == expected and r.last_accessed_at is not None
            assert s.memories.get(m.id).access_count == expected
    with store.session(tenant="acme") as s:
        assert s.memories.get(m.id).updated_at == m.updated_at  # access is not an edit


def test_recall_filters(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        s.embeddings.declare_model("other", dimensions=3)
        c = s.conversations.create(user_id="u1")
        persona = s.personas.create("Ada", template="You are Ada.").id
        v = [1.0, 0.0, 0.0]
        past = datetime.now(UTC) - timedelta(seconds=1)
        s.memories.add("u1 fact", user_id="u1", embedding=v, model=MODEL)
        s.memories.add("u1 in c", user_id="u1", conversation_id=c.id, embedding=v, model=MODEL)
        s.memories.add("u2 fact", user_id="u2", embedding=v, model=MODEL, kind="semantic")
        s.memories.add("persona", persona_id=persona, embedding=v, model=MODEL)
        s.memories.add("expired", embedding=v, model=MODEL, expires_at=past)
        s.memories.add("other model", embedding=v, model="other")
        s.memories.add("no vector")

        def found(**filters: Any) -> set[str]:
            return {m.content for m in s.memories.recall(v, 10, model=MODEL, **filters)}

        assert found() == {"u1 fact", "u1 in c", "u2 fact", "persona"}
        assert found(user_id="u1") == {"u1 fact", "u1 in c"}
        assert found(conversation_id=c.id) == {"u1 in c"}
        assert found(persona_id=persona) == {"persona"}
        assert found(kinds=["semantic"]) == {"u2 fact"}
        assert {m.content for m in s.memories.recall(v, model="other")} == {"other model"}
        with pytest.raises(ValidationError, match="not declared"):
            s.memories.recall(v, model="nope")
        with pytest.raises(ValidationError, match="half_life"):
            s.memories.recall(v, model=MODEL, half_life=timedelta(0))


def test_decay_prune_and_purge_expired(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        idle = s.memories.add("idle", importance=0.5, user_id="u1")
        busy = s.memories.add("busy", importance=0.5, user_id="u1")
        other = s.memories.add("other user", importance=0.5, user_id="u2")
        gone = s.memories.add("expired", expires_at=datetime.now(UTC) - timedelta(seconds=1))
        for m in (idle, other, gone):
            age(s, m.id, 10)
        assert s.memories.decay(factor=0.5, idle=timedelta(days=7), user_id="u1") == 1
        assert s.memories.get(idle.id).importance == pytest.approx(0.25)
        assert s.memories.get(busy.id).importance == pytest.approx(0.5)
        assert s.memories.get(other.id).importance == pytest.approx(0.5)
        assert s.memories.decay(factor=0.5, idle=timedelta(days=7)) == 3  # every user
        assert s.memories.prune(below=0.2) == 1  # idle: 0.125
        assert s.memories.purge_expired() == 1
        assert {m.content for m in s.memories.list()} == {"busy", "other user"}
        with pytest.raises(ValidationError):
            s.memories.decay(factor=2)


def test_context_with_memories_in_one_round_trip(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        c = s.conversations.create(user_id="u1")
        s.messages.append(c.id, role="system", content="You are helpful.", token_count=5)
        for i in range(6):
            s.messages.append(c.id, role="user", content=f"m{i}", token_count=10)
        earlier = s.conversations.create(user_id="u1")
        s.memories.add("u1 likes tea", user_id="u1", conversation_id=earlier.id,
                       embedding=[1, 0, 0], model=MODEL)  # fmt: skip
        s.memories.add("u1 has a cat", user_id="u1", embedding=[0, 1, 0], model=MODEL)
        s.memories.add("u2 likes coffee", user_id="u2", embedding=[1, 0, 0], model=MODEL)

        ctx = s.memories.context(c.id, max_tokens=35, embedding=[1, 0, 0], model=MODEL, k=1)
        assert [m.content for m in ctx.messages] == ["You are helpful.", "m3", "m4", "m5"]
        assert ctx.messages == s.messages.context(c.id, max_tokens=35)
        assert [m.content for m in ctx.memories] == ["u1 likes tea"]  # the user's, not u2's
        assert ctx.memories[0].access_count == 1
        both = s.memories.context(c.id, max_tokens=35, embedding=[1, 0, 0], model=MODEL)
        assert [m.content for m in both.memories] == ["u1 likes tea", "u1 has a cat"]
        theirs = s.memories.context(c.id, max_tokens=0, embedding=[1, 0, 0], model=MODEL,
                                    user_id="u2")  # fmt: skip
        assert [m.content for m in theirs.memories] == ["u2 likes coffee"]
        bare = s.memories.context(c.id, max_tokens=1000)
        assert len(bare.messages) == 7 and bare.memories == []
        with pytest.raises(ValidationError, match="go together"):
            s.memories.context(c.id, max_tokens=10, embedding=[1, 0, 0])
