"""Metadata filters in s.search: text (document metadata), chunks / vector / hybrid (chunk
source and document metadata), with iterative HNSW scans returning k rows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from pgvector import Vector

import pgrecall
from pgrecall import Query, ValidationError
from pgrecall.areas.embeddings import for_dimensions
from pgrecall.query.filters import compile_filter, splice

MODEL = "mini"


def seed(s: pgrecall.Session) -> None:
    s.embeddings.declare_model(MODEL, dimensions=3)
    en = s.documents.add("en.txt", title="Harbour cranes", metadata={"lang": "en", "year": 2021})
    de = s.documents.add("de.txt", title="Harbour ships", metadata={"lang": "de", "year": 2019})
    s.embeddings.add_many(
        ["harbour one", "harbour two"], [[1.0, 0.0, 0.0], [0.9, 0.1, 0.0]], model=MODEL,
        document_id=en.id, sources=[{"page": 1, "kind": "body"}, {"page": 2, "kind": "note"}],
    )  # fmt: skip
    s.embeddings.add("harbour three", [0.8, 0.2, 0.0], model=MODEL, document_id=de.id,
                     source={"page": 1, "kind": "body"})  # fmt: skip
    s.embeddings.add("harbour free", [0.7, 0.3, 0.0], model=MODEL, source={"page": 9})


def contents(hits: list[Any]) -> list[str]:
    return [h.content for h in hits]


def test_filters_in_every_search(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        seed(s)
        q = [1.0, 0.0, 0.0]
        assert [h.title for h in s.search.text("harbour", filter={"year": {"$gte": 2020}})] == [
            "Harbour cranes"
        ]
        assert [h.title for h in s.search.text("harbour", filter={"lang": {"$ne": "en"}})] == [
            "Harbour ships"
        ]
        page1 = {"page": 1}
        assert contents(s.search.vector(q, model=MODEL, filter=page1)) == [
            "harbour one", "harbour three"
        ]  # fmt: skip
        assert contents(s.search.vector(q, model=MODEL, filter={"page": {"$gt": 1}})) == [
            "harbour two", "harbour free"
        ]  # fmt: skip
        assert contents(
            s.search.vector(q, model=MODEL, filter={"kind": "body"}, document_filter={"lang": "de"})
        ) == ["harbour three"]
        # a chunk without a document never passes a document filter
        no_doc = s.search.vector(q, model=MODEL, document_filter={"lang": {"$exists": False}})
        assert contents(no_doc) == []
        assert {h.content for h in s.search.chunks("harbour", filter={"kind": "note"})} == {
            "harbour two"
        }
        assert {h.content for h in s.search.chunks("harbour", document_filter={"year": 2019})} == {
            "harbour three"
        }
        hybrid = s.search.hybrid("harbour", q, model=MODEL, filter={"$not": {"page": 1}})
        assert contents(hybrid) == ["harbour two", "harbour free"]
        both = s.search.hybrid("harbour", q, model=MODEL, filter={}, document_filter={})
        assert len(both) == 3  # {} matches every chunk with a document


def test_filters_are_tenant_scoped(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        seed(s)
    with store.session(tenant="other") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        assert s.search.vector([1.0, 0, 0], model=MODEL, filter={"page": 1}) == []
        assert s.search.text("harbour", filter={"lang": "en"}) == []
        assert s.search.chunks("harbour", document_filter={"lang": "en"}) == []


def test_bad_filter_is_rejected_before_sql(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        seed(s)
        bads: list[dict[str, Any]] = [{"a') OR true --": 1}, {"page": {"$regex": "x"}}, {"$or": []}]
        for bad in bads:
            with pytest.raises(ValidationError, match="filter"):
                s.search.vector([1.0, 0, 0], model=MODEL, filter=bad)
            with pytest.raises(ValidationError, match="filter"):
                s.search.hybrid("x", [1.0, 0, 0], model=MODEL, document_filter=bad)
            with pytest.raises(ValidationError, match="filter"):
                s.search.text("x", filter=bad)
        # nothing reached the server: the transaction is still usable
        assert len(s.search.vector([1.0, 0, 0], model=MODEL)) == 4


async def test_async_filters(astore: pgrecall.AsyncStore) -> None:
    async with astore.session(tenant="acme") as s:
        await s.embeddings.declare_model(MODEL, dimensions=3)
        d = await s.documents.add("a.txt", title="Async harbour", metadata={"lang": "en"})
        await s.embeddings.add("harbour", [1.0, 0, 0], model=MODEL, document_id=d.id,
                               source={"tags": ["x", "y"]})  # fmt: skip
        hits = await s.search.vector([1.0, 0, 0], model=MODEL, filter={"tags": {"$contains": "y"}})
        assert contents(hits) == ["harbour"]
        none = await s.search.hybrid("harbour", [1.0, 0, 0], model=MODEL, filter={"tags": "y"})
        assert none == []  # a scalar never equals an array
        texts = await s.search.text("harbour", filter={"lang": {"$in": ["en", "fr"]}})
        assert [h.title for h in texts] == ["Async harbour"]


HNSW_DIMS = 384


@pytest.mark.slow
def test_selective_filter_on_hnsw_returns_k_rows(store: pgrecall.Store) -> None:
    """1 % of the chunks pass a range filter (not an index condition): the iterative HNSW
    scan goes on until k of them are found."""
    rng = np.random.default_rng(5)
    n, k = 2000, 10
    data = rng.standard_normal((n, HNSW_DIMS)).astype(np.float32)
    sources = [{"bucket": i % 100, "tag": f"t{i % 100}"} for i in range(n)]
    flt = {"bucket": {"$gte": 7, "$lt": 8}}  # 20 rows
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=HNSW_DIMS)
        s.embeddings.add_many([str(i) for i in range(n)], data, model=MODEL, sources=sources)
    q = rng.standard_normal(HNSW_DIMS).astype(np.float32)
    with store.session(tenant="acme") as s:
        off = Query.from_string(
            "off", "exec", "SELECT set_config('enable_sort', 'off', true),"
            " set_config('enable_bitmapscan', 'off', true)"
        )  # fmt: skip
        s.db.execute(off)  # the planner would rather sort 2000 rows exactly
        pred = compile_filter(flt, psycopg.sql.SQL("e.source"))
        query = splice(for_dimensions(s.queries.search_vector, HNSW_DIMS), filter=pred)
        params = dict(
            tenant_id="acme", embedding=Vector(q), model=MODEL, k=k, document_ids=None,
            conversation_id=None, document_metadata=None, source=psycopg.types.json.Jsonb({}),
            **pred.params,
        )  # fmt: skip
        plan = "\n".join(r[0] for r in s.db.conn.execute(b"EXPLAIN " + query.sql, params))
        assert "embeddings_hnsw_384_idx" in plan
        hits = s.search.vector(q, k, model=MODEL, filter=flt)
        assert len(hits) == k and all(int(h.content) % 100 == 7 for h in hits)
        eq_hits = s.search.vector(q, k, model=MODEL, filter={"tag": "t7"})
        assert {h.id for h in eq_hits} == {h.id for h in hits}
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    passing = [i for i in range(n) if i % 100 == 7]
    exact = sorted(passing, key=lambda i: -float(unit[i] @ q))[:k]
    assert len(set(exact) & {int(h.content) for h in hits}) >= 9


def test_readme_metadata_filters_example(store: pgrecall.Store) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("\n### Metadata filters\n")
    end = readme.find("\n#", start + 10)
    (python,) = re.findall(r"```python\n(.*?)```", readme[start:end], re.S)
    exec(python, {"store": store})


def test_indexes_serve_filters(store: pgrecall.Store) -> None:
    """GIN for containment (0014), and the README's expression index for a range."""
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        s.embeddings.add_many(
            [str(i) for i in range(300)], [[1.0, i / 300, 0.0] for i in range(300)],
            model=MODEL, sources=[{"year": 1900 + i % 150, "lang": f"l{i}"} for i in range(300)],
        )  # fmt: skip
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    (ddl,) = re.findall(r"CREATE INDEX CONCURRENTLY IF NOT EXISTS embeddings_source_year_idx.*?;",
                        readme, re.S)  # fmt: skip
    with psycopg.connect(store.url, autocommit=True) as c:
        c.execute(ddl.encode())
        c.execute("ANALYZE pgrecall.embeddings")
    cases: dict[str, dict[str, Any]] = {
        "embeddings_source_idx": {"lang": {"$in": ["l1", "l2"]}},
        "embeddings_source_year_idx": {"year": {"$between": [1950, 1951]}},
    }
    for index, flt in cases.items():
        pred = compile_filter(flt, psycopg.sql.SQL("e.source"))
        query = psycopg.sql.SQL("EXPLAIN SELECT id FROM pgrecall.embeddings AS e WHERE {}").format(
            pred.sql
        )
        with store.session(tenant="acme") as s:
            s.db.conn.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in s.db.conn.execute(query, pred.params))
        assert index in plan, plan
