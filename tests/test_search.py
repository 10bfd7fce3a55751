"""Full-text, vector and hybrid search (issue 4)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pgvector import Vector
from psycopg.types.json import Jsonb

import pgrecall
from pgrecall import Query, ValidationError
from pgrecall.areas.embeddings import for_dimensions

MODEL = "mini"
NASTY = [
    "", " ", "the", "a & b", "a | b", "!(", "!(x", "'", "''", '"', '"unclosed', "\\", "\\'",
    "foo:*", "<->", "a <-> b", "(((", ")))", "-", "--", "or", "OR OR", "-x or y", "&|!():*",
    "é中文🙂", "x" * 5000, " ".join(["word"] * 500), "NULL", "'; DROP TABLE x; --", "$1", "%s",
    "%(q)s", ":q", "\t\n\r", "-" * 33, "- " * 40, "a " + "-" * 99 + " b", "-!" * 40, "-(" * 40,
    "-<-" * 30, "-\t" * 40, ("-" * 16 + "'") * 5, "-" * 10_000,
]  # fmt: skip


def seed_documents(s: pgrecall.Session) -> dict[str, pgrecall.models.Document]:
    c = s.conversations.create(user_id="u1")
    docs = {
        "title": s.documents.add("t.txt", title="Harbour cranes", conversation_id=c.id),
        "summary": s.documents.add("s.txt", title="Port report", metadata={"lang": "en"}),
        "runner": s.documents.add("r.txt", title="Running shoes review", metadata={"lang": "de"}),
    }
    s.analyses.add(docs["summary"].id, summary="Cranes were idle most of the week", tags=["ops"])
    return docs


def test_text_search_ranks_highlights_and_filters(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        docs = seed_documents(s)
        hits = s.search.text("cranes")
        assert [h.title for h in hits] == ["Harbour cranes", "Port report"]  # title beats summary
        assert hits[0].rank > hits[1].rank > 0
        assert "<b>Cranes</b>" in hits[1].snippet and hits[1].tags == ["ops"]
        assert [h.title for h in s.search.text("runs")] == ["Running shoes review"]  # stemmed
        assert s.search.text("runs", config="simple") == []  # words as typed
        assert [h.title for h in s.search.text("running", config="simple")] == [
            "Running shoes review"
        ]
        assert [h.title for h in s.search.text('"idle most"')] == ["Port report"]  # phrase
        assert [h.title for h in s.search.text("cranes -idle")] == ["Harbour cranes"]
        assert [h.title for h in s.search.text("cranes", metadata={"lang": "en"})] == [
            "Port report"
        ]
        conv = docs["title"].conversation_id
        assert [h.title for h in s.search.text("cranes", conversation_id=conv)] == [
            "Harbour cranes"
        ]
        assert [h.title for h in s.search.text("cranes OR shoes", k=1)] == ["Harbour cranes"]
        with pytest.raises(ValidationError, match="config"):
            s.search.text("x", config="german")  # type: ignore[arg-type]


def seed_chunks(s: pgrecall.Session) -> dict[str, UUID]:
    s.embeddings.declare_model(MODEL, dimensions=3)
    c = s.conversations.create(user_id="u1")
    a = s.documents.add("a.txt", conversation_id=c.id, metadata={"lang": "en"})
    b = s.documents.add("b.txt", metadata={"lang": "de"})
    s.embeddings.add_many(
        ["apples and pears", "pears only"], [[1.0, 0.0, 0.0], [0.9, 0.3, 0.0]], model=MODEL,
        document_id=a.id, sources=[{"page": 1}, {"page": 2}],
    )  # fmt: skip
    s.embeddings.add("bananas", [1.0, 0.05, 0.0], model=MODEL, document_id=b.id)
    s.embeddings.add("apples, free-standing", [0.0, 0.0, 1.0], model=MODEL)
    return {"conversation": c.id, "a": a.id, "b": b.id}


def test_vector_search_orders_by_cosine_and_filters(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        ids = seed_chunks(s)

        def found(**filters: Any) -> list[str]:
            return [h.content for h in s.search.vector([1.0, 0.0, 0.0], model=MODEL, **filters)]

        hits = s.search.vector([2.0, 0.0, 0.0], 2, model=MODEL)
        assert [h.content for h in hits] == ["apples and pears", "bananas"]
        assert hits[0].distance == pytest.approx(0.0, abs=1e-6) and hits[0].similarity == 1.0
        assert hits[0].source == {"page": 1} and hits[0].document_id == ids["a"]
        assert found() == ["apples and pears", "bananas", "pears only", "apples, free-standing"]
        assert found(document_ids=[ids["b"]]) == ["bananas"]
        assert found(conversation_id=ids["conversation"]) == ["apples and pears", "pears only"]
        assert found(document_metadata={"lang": "de"}) == ["bananas"]
        assert found(source={"page": 2}) == ["pears only"]
        assert found(document_metadata={"lang": "en"}, source={"page": 1}) == ["apples and pears"]
        assert s.search.vector([1.0, 0.0, 0.0], model=MODEL, document_ids=[]) == []
        chunks = s.search.chunks("apples")
        assert {h.content for h in chunks} == {"apples and pears", "apples, free-standing"}
        assert all("<b>apples</b>" in h.snippet for h in chunks)
        assert [h.content for h in s.search.chunks("apples", document_ids=[ids["a"]])] == [
            "apples and pears"
        ]
        assert s.search.chunks("apples", model="other") == []


def test_hybrid_fuses_ranks(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        seed_chunks(s)
        hits = s.search.hybrid("pears", [0.9, 0.3, 0.0], model=MODEL)
        # Both keyword hits tie on ts_rank; "pears only" is also the nearest vector.
        assert [h.content for h in hits] == [
            "pears only", "apples and pears", "bananas", "apples, free-standing"
        ]  # fmt: skip
        top = hits[0]
        assert top.vector_rank == 1 and top.text_rank in (1, 2)
        assert top.score == pytest.approx(1 / (60 + top.text_rank) + 1 / (60 + 1))
        assert hits[1].vector_rank == 3 and hits[1].text_rank == 3 - top.text_rank
        assert hits[2].text_rank is None and hits[2].score == pytest.approx(1 / 62)
        assert top.distance == pytest.approx(0.0, abs=1e-6)
        vector_only = s.search.hybrid("apples", [1.0, 0.0, 0.0], model=MODEL, text_weight=0)
        plain = s.search.vector([1.0, 0.0, 0.0], model=MODEL)
        assert [h.id for h in vector_only] == [h.id for h in plain]
        assert [h.distance for h in vector_only] == pytest.approx([h.distance for h in plain])
        text_only = s.search.hybrid("pears", [0.0, 0.0, 1.0], model=MODEL, vector_weight=0, k=2)
        assert {h.content for h in text_only} == {"apples and pears", "pears only"}
        assert "<b>pears</b>" in text_only[0].snippet
        no_words = s.search.hybrid("the", [1.0, 0.0, 0.0], model=MODEL, k=1)
        assert [(h.content, h.text_rank) for h in no_words] == [("apples and pears", None)]
        with pytest.raises(ValidationError, match="rrf_k"):
            s.search.hybrid("x", [1.0, 0.0, 0.0], model=MODEL, rrf_k=-1)


def test_user_search_text_never_causes_an_sql_error(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        seed_documents(s)
        seed_chunks(s)

    def search(q: str) -> None:
        with store.session(tenant="acme") as s:
            try:
                s.search.text(q)
                s.search.text(q, config="simple")
                s.search.chunks(q)
                s.search.hybrid(q, [1.0, 0.0, 0.0], model=MODEL)
            except ValidationError:  # only what PostgreSQL cannot store as text
                assert "\x00" in q or any(0xD800 <= ord(c) <= 0xDFFF for c in q) or len(q) > 10_000

    for q in NASTY:
        search(q)

    operators = st.text(alphabet="&|!():*'\"\\<->- ", max_size=10)
    nasty = st.sampled_from(NASTY).flatmap(lambda base: operators.map(lambda x: base + x))
    # Long runs of operators (33 dashes overflowed the tsquery parser's stack: XX000).
    runs = st.text(alphabet="-!(<>|& \t\u3000.,", min_size=30, max_size=300)
    dashes = st.integers(30, 200).map(lambda n: "-" * n)
    mixed = st.lists(dashes | runs | st.sampled_from(NASTY), min_size=1, max_size=4).map("".join)

    @settings(
        max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.text(alphabet=st.characters(), max_size=80) | nasty | runs | mixed)
    def run(q: str) -> None:
        search(q)

    run()


def test_vector_search_of_a_dimension_without_index_is_exact(store: pgrecall.Store) -> None:
    rng = np.random.default_rng(3)
    data = rng.standard_normal((200, 5)).astype(np.float32)
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("five", dimensions=5)
        s.embeddings.add_many([str(i) for i in range(200)], data, model="five")
        q = rng.standard_normal(5)
        hits = s.search.vector(q, 10, model="five")
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    expected = np.argsort(-(unit @ (q / np.linalg.norm(q))))[:10]
    assert [int(h.content) for h in hits] == [int(i) for i in expected]


HNSW_DIMS = 384
TENANTS = [f"t{i:02d}" for i in range(20)]


def test_filtered_hnsw_search_with_20_tenants_returns_k_rows(store: pgrecall.Store) -> None:
    """Each tenant holds 5% of the vectors; the HNSW scan must go on until k pass the filter."""
    rng = np.random.default_rng(11)
    per_tenant = 40
    data = {t: rng.standard_normal((per_tenant, HNSW_DIMS)).astype(np.float32) for t in TENANTS}
    for t in TENANTS:
        with store.session(tenant=t) as s:
            s.embeddings.declare_model(MODEL, dimensions=HNSW_DIMS)
            s.embeddings.add_many([f"{t}-{i}" for i in range(per_tenant)], data[t], model=MODEL)
    q = rng.standard_normal(HNSW_DIMS).astype(np.float32)
    off = Query.from_string(
        "off",
        "exec",
        "SELECT set_config('enable_sort', 'off', true),"
        " set_config('enable_bitmapscan', 'off', true)",
    )
    target = "t07"
    with store.session(tenant=target) as s:
        s.db.execute(off)  # make the planner take the HNSW index even for 800 rows
        query = for_dimensions(s.queries.search_vector, HNSW_DIMS)
        params = dict(
            tenant_id=target, embedding=Vector(q), model=MODEL, k=10, document_ids=None,
            conversation_id=None, document_metadata=None, source=Jsonb({}),
        )  # fmt: skip
        plan = "\n".join(r[0] for r in s.db.conn.execute(b"EXPLAIN " + query.sql, params))
        assert "embeddings_hnsw_384_idx" in plan
        plain = Query.from_string(
            "knobs", "exec", "SELECT set_config('hnsw.iterative_scan', 'off', true), "
            "set_config('hnsw.ef_search', '40', true)"
        )  # fmt: skip
        s.db.execute(plain)
        without = s.db.conn.execute(query.sql, params).fetchall()
        assert len(without) < 10  # what a filtered HNSW search returns without iterative scans
        hits = s.search.vector(q, 10, model=MODEL)
        assert len(hits) == 10 and {h.content.split("-")[0] for h in hits} == {target}
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
        unit = data[target] / np.linalg.norm(data[target], axis=1, keepdims=True)
        exact = {f"{target}-{i}" for i in np.argsort(-(unit @ q))[:10]}
        assert len(exact & {h.content for h in hits}) >= 9  # approximate, but close
        fused = s.search.hybrid("t07", q, 10, model=MODEL)
        assert len(fused) == 10 and {h.content.split("-")[0] for h in fused} == {target}


async def test_async_documents_search_and_recall(astore: pgrecall.AsyncStore) -> None:
    async with astore.session(tenant="acme") as s:
        await s.embeddings.declare_model(MODEL, dimensions=3)
        d = await s.documents.add("a.txt", title="Async harbour")
        a = await s.analyses.add(d.id, summary="cranes")
        assert a.version == 1 and (await s.analyses.latest(d.id)) == a
        ids = await s.embeddings.add_many(["harbour cranes"], np.eye(1, 3), model=MODEL,
                                          document_id=d.id)  # fmt: skip
        assert [h.id for h in await s.search.vector([1, 0, 0], model=MODEL)] == ids
        assert [h.id for h in await s.search.hybrid("cranes", [1, 0, 0], model=MODEL)] == ids
        assert [h.title for h in await s.search.text("cranes")] == ["Async harbour"]
        m = await s.memories.add("likes tea", user_id="u1", embedding=[0, 1, 0], model=MODEL)
        (r,) = await s.memories.recall([0, 1, 0], model=MODEL)
        assert r.id == m.id and r.access_count == 1
        c = await s.conversations.create(user_id="u1")
        await s.messages.append(c.id, role="user", content="tea?")
        ctx = await s.memories.context(c.id, max_tokens=100, embedding=[0, 1, 0], model=MODEL)
        assert [x.content for x in ctx.messages] == ["tea?"]
        assert [x.id for x in ctx.memories] == [m.id]
