"""Vector searches keep their per-parameter (HNSW) plan on a long-lived connection.

psycopg prepares a statement after a few executions; PostgreSQL then weighs a generic
plan (one for every parameter value) against the custom ones. At a high ``ef_search``
pgvector's HNSW cost estimate rises above the generic plan's (the tenant's rows through
the b-tree and GIN indexes, then a sort), so after a few dozen searches on a connection
every search became a scan of the tenant's rows: ~100x slower at 30k rows (found by the
scale benchmark, bench/scale.py). ``set_vector_search`` sets ``plan_cache_mode`` to
``force_custom_plan`` for the transaction.
"""

from __future__ import annotations

import numpy as np
import pytest

import pgrecall
from pgrecall.ops import bulk_load

pytestmark = pytest.mark.slow


def test_vector_search_never_runs_a_generic_plan(store: pgrecall.Store) -> None:
    rng = np.random.default_rng(5)
    n = 8_000
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("plan", dimensions=384)
    bulk_load(store, "acme", [f"c{i}" for i in range(n)], vectors, model="plan",
              rebuild_index=True)
    with store.session(tenant="acme") as s:
        for i in range(60):
            hits = s.search.vector(vectors[i], 10, model="plan", ef_search=400)
            assert hits[0].content == f"c{i}"
        conn = s.search.db.conn
        rows = conn.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%%WITH nearest AS MATERIALIZED%%'"
        ).fetchall()
    assert rows, "the search statement was not prepared (psycopg prepare_threshold)"
    assert [r[0] for r in rows] == [0] * len(rows)
    assert sum(r[1] for r in rows) >= 50
