"""The fast paths of issue 14 keep their promises: row mapping reads column names once
per result and stays correct when a statement's columns change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import pytest
from pgvector import Vector
from psycopg.types.json import Jsonb
from pydantic import BaseModel

import pgrecall
from pgrecall import Query
from pgrecall.areas.embeddings import for_dimensions
from pgrecall.errors import ValidationError
from pgrecall.ops import bulk_load
from pgrecall.query.db import model_row
from pgrecall.query.resources import project_queries


class Item(BaseModel):
    n: int
    label: str


class Wide(BaseModel):
    n: int
    label: str
    extra: int | None = None


@dataclass
class Plain:
    n: int
    label: str


ALL = Query.from_string("all_items", "many", "SELECT * FROM items ORDER BY n")


def test_row_factory_follows_a_changed_statement_shape(store: pgrecall.Store) -> None:
    """``SELECT *`` after ALTER TABLE: the new column reaches the model (or fails it)."""
    with store.transaction() as db:
        db.conn.execute("CREATE TEMP TABLE items (n int, label text)")
        db.conn.execute("INSERT INTO items VALUES (1, 'a'), (2, 'b')")
        assert db.many(ALL, Wide) == [Wide(n=1, label="a"), Wide(n=2, label="b")]
        assert db.many(ALL, Item) == [Item(n=1, label="a"), Item(n=2, label="b")]
        db.conn.execute("ALTER TABLE items ADD COLUMN extra int DEFAULT 7")
        assert db.many(ALL, Wide) == [Wide(n=1, label="a", extra=7), Wide(n=2, label="b", extra=7)]
        # Item forbids nothing extra by default: the new column is ignored by pydantic,
        # but a model that forbids it must fail rather than be built from stale names.
        with db.transaction(), pytest.raises(ValidationError, match="does not fit"):
            db.many(ALL, _Strict)
        db.conn.execute("ALTER TABLE items DROP COLUMN label")
        with db.transaction(), pytest.raises(ValidationError, match="does not fit"):
            db.many(ALL, Wide)


class _Strict(BaseModel, extra="forbid"):
    n: int
    label: str


def test_same_model_different_column_orders(store: pgrecall.Store) -> None:
    a = Query.from_string("a", "one", "SELECT 1 AS n, 'x' AS label")
    b = Query.from_string("b", "one", "SELECT 'y' AS label, 2 AS n")
    with store.connection() as db:
        for _ in range(3):  # alternate: the factory's last-shape shortcut must not stick
            assert db.one(a, Item) == Item(n=1, label="x")
            assert db.one(b, Item) == Item(n=2, label="y")


def test_plain_class_and_non_ascii_column_names(store: pgrecall.Store) -> None:
    q = Query.from_string("p", "one", "SELECT 3 AS n, 'z' AS label")
    u = Query.from_string("u", "one", 'SELECT 4 AS n, \'é\' AS "label", 5 AS "größe"')

    class Sized(BaseModel):
        n: int
        label: str
        größe: int

    with store.connection() as db:
        assert db.one(q, Plain) == Plain(n=3, label="z")
        assert db.one(u, Sized) == Sized(n=4, label="é", größe=5)
        assert db.one(u, Sized) == Sized(n=4, label="é", größe=5)


def test_model_row_on_a_plain_cursor_and_a_statement_without_rows(store: pgrecall.Store) -> None:
    factory = model_row(Item)
    assert model_row(Item) is factory  # built once per class
    with store.connection() as db, db.conn.cursor(row_factory=factory) as cur:
        cur.execute("SELECT 1 AS n, 'one' AS label UNION ALL SELECT 2, 'two'")
        assert cur.fetchall() == [Item(n=1, label="one"), Item(n=2, label="two")]
        cur.execute("CREATE TEMP TABLE nothing_here (n int)")
        with pytest.raises(psycopg.ProgrammingError):
            cur.fetchone()


async def test_async_runner_maps_rows_the_same(astore: pgrecall.AsyncStore) -> None:
    q = Query.from_string(
        "p", "many", "SELECT g AS n, 'x' || g AS label FROM generate_series(1, 3) g"
    )
    async with astore.connection() as db:
        assert await db.many(q, Item) == [Item(n=i, label=f"x{i}") for i in (1, 2, 3)]


# -- bulk loads ------------------------------------------------------------------


def _hnsw_384(db_url: str) -> list[tuple[str, str, str | None]]:
    from pgrecall.ops.bulk import hnsw_indexes

    with psycopg.connect(db_url) as conn:
        return hnsw_indexes(conn, 384)


def _index_oid(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT 'pgrecall.embeddings_hnsw_384_idx'::regclass::oid").fetchone()
        assert row is not None
        return int(row[0])


def _vectors(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 384)).astype(np.float32)
    out: np.ndarray = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def test_bulk_load_rebuilds_the_index_and_finds_the_rows(
    store: pgrecall.Store, db_url: str
) -> None:
    before = _hnsw_384(db_url)
    assert [b[0] for b in before] == ["embeddings_hnsw_384_idx"] and before[0][2]
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("bulk", dimensions=384)
    with store.session(tenant="other") as s:  # another tenant's rows stay searchable
        s.embeddings.declare_model("bulk", dimensions=384)
        (theirs,) = s.embeddings.add_many(["theirs"], _vectors(1, 9), model="bulk")
    vectors = _vectors(500)
    seen: list[int] = []
    oid = _index_oid(db_url)
    ids = bulk_load(
        store, "acme", [f"c{i}" for i in range(500)], vectors, model="bulk", batch=200,
        rebuild_index=True, sources=[{"i": i} for i in range(500)], progress=seen.append,
    )
    assert seen == [200, 400, 500] and len(ids) == len(set(ids)) == 500
    assert _hnsw_384(db_url) == before  # same definition and comment, built again
    assert _index_oid(db_url) != oid
    with store.session(tenant="acme") as s:
        assert s.embeddings.count(model="bulk") == 500
        hits = s.search.vector(vectors[123], 3, model="bulk")
        assert hits[0].id == ids[123] and hits[0].source == {"i": 123}
    with store.session(tenant="other") as s:
        assert [h.id for h in s.search.vector(_vectors(1, 9)[0], 5, model="bulk")] == [theirs]


def test_bulk_load_auto_keeps_a_large_index_and_rebuilds_after_a_failure(
    store: pgrecall.Store, db_url: str
) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("bulk", dimensions=384)
        s.embeddings.add_many([f"x{i}" for i in range(400)], _vectors(400, 2), model="bulk")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("ANALYZE pgrecall.embeddings")
    oid = _index_oid(db_url)
    bulk_load(store, "acme", ["small"], _vectors(1, 3), model="bulk")  # auto: 1 x 8 < 400
    assert _index_oid(db_url) == oid
    bad = _vectors(300, 4)
    bad[250, 0] = np.nan
    with pytest.raises(ValidationError, match="NaN"):
        bulk_load(store, "acme", [f"y{i}" for i in range(300)], bad, model="bulk", batch=200,
                  rebuild_index=True)
    assert [b[0] for b in _hnsw_384(db_url)] == ["embeddings_hnsw_384_idx"]  # built again
    with store.session(tenant="acme") as s:
        assert s.embeddings.count(model="bulk") == 401 + 200  # the first batch committed


# -- halfvec: 2,001-4,000 dimensions ----------------------------------------------


def test_for_dimensions_casts_to_halfvec_from_2001_to_4000() -> None:
    q = project_queries().search_vector
    assert b"vector(1536)" in for_dimensions(q, 1536).sql
    big = for_dimensions(q, 3072).sql
    assert b"halfvec(3072)" in big and b"vector(3072)" not in big.replace(b"halfvec", b"")
    assert b"dimensions = 3072" in big
    assert b"halfvec(2001)" in for_dimensions(q, 2001).sql
    assert b"vector(4001)" in for_dimensions(q, 4001).sql  # no HNSW beyond 4,000: exact


def test_3072_dimensions_are_searched_through_the_halfvec_index(store: pgrecall.Store) -> None:
    rng = np.random.default_rng(7)
    n, dims = 300, 3072
    vectors = rng.normal(size=(n, dims)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("large", dimensions=dims)
        ids = s.embeddings.add_many([f"c{i}" for i in range(n)], vectors, model="large")
        m = s.memories.add("remember", user_id="u1", embedding=vectors[5], model="large")
    queries = vectors[:20] + rng.normal(scale=0.02, size=(20, dims)).astype(np.float32)
    found = 0
    with store.session(tenant="acme") as s:
        for qv in queries:
            hits = s.search.vector(qv, 10, model="large")
            exact = np.argsort(-(vectors @ (qv / np.linalg.norm(qv))))[:10]
            found += len({h.id for h in hits} & {ids[i] for i in exact})
            assert abs(hits[0].distance - (1 - float(vectors[exact[0]] @ qv) /
                                           float(np.linalg.norm(qv)))) < 1e-2  # half precision
        assert [r.id for r in s.memories.recall(vectors[5], 1, model="large")] == [m.id]
        query = for_dimensions(project_queries().search_vector, dims)
        params: dict[str, Any] = dict.fromkeys(query.params)
        params.update(tenant_id="acme", embedding=Vector(queries[0].tolist()), model="large",
                      k=10, source=Jsonb({}))
        plan = s.db.conn.execute(b"EXPLAIN " + query.sql, params).fetchall()
    assert "embeddings_hnsw_3072_idx" in "\n".join(r[0] for r in plan)
    assert found / (10 * len(queries)) >= 0.9  # recall@10 against exact, numpy
    # binary quantization (0021): Hamming candidates, re-ranked by the exact distance
    quantized = 0
    with store.session(tenant="acme") as s:
        for qv in queries:
            hits = s.search.vector_quantized(qv, 10, model="large", candidates=100)
            unit = qv / np.linalg.norm(qv)
            exact = np.argsort(-(vectors @ unit))[:10]
            quantized += len({h.id for h in hits} & {ids[i] for i in exact})
            assert [h.distance for h in hits] == sorted(h.distance for h in hits)
            assert abs(hits[0].distance - (1 - float(vectors[exact[0]] @ unit))) < 1e-5  # exact
        with pytest.raises(ValidationError, match="3072 dimensions only"):
            s.embeddings.declare_model("small", dimensions=3)
            s.search.vector_quantized([1, 0, 0], 1, model="small")
    with store.session(tenant="acme") as s:
        query = project_queries().search_vector_quantized
        plan = s.db.conn.execute(
            b"EXPLAIN " + query.sql,
            dict(tenant_id="acme", embedding=Vector(queries[0].tolist()), model="large", k=10,
                 candidates=100),
        ).fetchall()
    assert "embeddings_bq_3072_idx" in "\n".join(r[0] for r in plan)
    assert quantized / (10 * len(queries)) >= 0.8


# -- search: one round trip, no dimension lookup per session -------------------------


def test_search_is_one_round_trip_and_looks_up_no_dimension(db_url: str) -> None:
    from test_chat_turn import round_trips

    with pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1, pool_check_after=3600) as st:
        with st.session(tenant="acme") as s:
            s.embeddings.declare_model("rt", dimensions=384)
            s.embeddings.add_many(["a", "b"], _vectors(2), model="rt")
        with st.session(tenant="acme") as s:
            s.search.vector(_vectors(1)[0], 2, model="rt")  # the first reads the dimension
            with round_trips(s.db.conn) as n:
                s.search.vector(_vectors(1)[0], 2, model="rt", filter={"x": 1})
            assert n == [1]
        with round_trips(s.db.conn) as n, st.session(tenant="acme"):  # BEGIN + tenant, COMMIT
            pass
        assert n == [2]
        with st.connection() as db:  # the pool put the connection back in its usual mode
            assert db.conn.autocommit is False
        for _ in range(2):  # a new session: the process-wide cache, no lookup
            with st.session(tenant="acme") as s:
                with round_trips(s.db.conn) as n:
                    hits = s.search.hybrid("a", _vectors(1)[0], 2, model="rt")
                assert n == [1] and len(hits) == 2


def test_search_notices_a_model_redeclared_elsewhere(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("moving", dimensions=384)
        s.embeddings.add_many(["a"], _vectors(1), model="moving")
        assert len(s.search.vector(_vectors(1)[0], 1, model="moving")) == 1  # cached: 384
    with psycopg.connect(store.url, autocommit=True) as other:  # another process, say
        other.execute("DELETE FROM pgrecall.embeddings WHERE model = 'moving'")
        other.execute("DELETE FROM pgrecall.embedding_models WHERE name = 'moving'")
        other.execute(
            "INSERT INTO pgrecall.embedding_models (tenant_id, name, dimensions)"
            " VALUES ('acme', 'moving', 3)"
        )
    # a stale 384 would find nothing, silently; the guard in the pipeline says why
    with store.session(tenant="acme") as s, pytest.raises(ValidationError, match="declares 3"):
        s.search.vector(_vectors(1)[0], 1, model="moving")
    with store.session(tenant="acme") as s:
        s.embeddings.add("c", [0, 0, 1], model="moving")  # the 3-d vector is accepted
        assert [h.content for h in s.search.vector([0, 0, 1], 1, model="moving")] == ["c"]


# -- the README's Performance section runs -----------------------------------------


def test_readme_performance_examples(db_url: str) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("## Performance")
    end = readme.find("\n## ", start + 1)
    found = re.findall(r"```python\n(.*?)```", readme[start:end], re.S)
    assert found, "the Performance section has runnable examples"
    for block in found:
        namespace: dict[str, object] = {}
        exec(block.replace('"postgresql://app@db/app"', repr(db_url)), namespace)
        assert namespace.get("checked") is True
