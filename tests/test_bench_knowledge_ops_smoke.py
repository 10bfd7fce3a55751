"""Smoke run of the knowledge and operations benchmarks (``bench/``) at tiny sizes.

Not a timing test: it checks that both suites run end to end on a migrated database
and return sane results (the real numbers come from ``python -m bench``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = str(Path(__file__).resolve().parent.parent)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _bench_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bench`` is a directory at the repository root, not an installed package."""
    if ROOT not in sys.path:
        monkeypatch.syspath_prepend(ROOT)


def _finite(values: dict[str, float]) -> bool:
    return bool(values) and all(math.isfinite(v) and v >= 0 for v in values.values())


def test_knowledge_bench_smoke(db_url: str) -> None:
    from bench import knowledge

    results = knowledge.run(db_url, quick=True)
    by_name = {r.name.split(",")[0]: r for r in results}
    assert len(results) == 6
    assert all(_finite(r.values) for r in results)
    ingest = by_name["embedding ingest"]
    assert ingest.ratio is not None and ingest.ratio > 0 and ingest.met is not None
    assert set(ingest.values) == {f"{side} rows/s" for side in (
        knowledge.ADD_MANY, knowledge.EXECUTEMANY, knowledge.RAW_HNSW, knowledge.RAW_PLAIN)}
    searches = [r for r in results if r.name.startswith("top-10 vector search")]
    assert len(searches) == 2
    for r in searches:  # a few hundred rows: the index finds (almost) everything
        assert 0.8 <= r.values["recall@10"] <= 1.0
    assert by_name["hybrid search (keyword + vector"].values["p50 ms"] > 0
    with psycopg.connect(db_url) as conn:  # the suite leaves no rows or tables behind
        left = conn.execute("SELECT count(*) FROM pgrecall.embeddings").fetchone()
        schema = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (knowledge.SCHEMA,)
        ).fetchone()
    assert left == (0,) and schema == (0,)


def test_ops_bench_smoke(db_url: str) -> None:
    from bench import ops

    results = ops.run(db_url, quick=True)
    assert [r.name.split(",")[0] for r in results] == [
        "event logging throughput",
        "cache get (hit)",
        "cache get (miss)",
        "cache set",
        "run queue: claim_next + succeed",
        "export_tenant",
    ]
    assert all(_finite(r.values) for r in results)
    export = results[-1]
    assert export.extra["rows"] >= 1_000 and export.values["peak RSS MB"] > 10
    assert export.met is True  # a tiny export stays far below 200 MB
    with psycopg.connect(db_url) as conn:  # the suite's rows are removed again
        left = conn.execute(
            "SELECT (SELECT count(*) FROM pgrecall.messages WHERE tenant_id = %(e)s)"
            "     + (SELECT count(*) FROM pgrecall.conversations WHERE tenant_id = %(e)s)"
            "     + (SELECT count(*) FROM pgrecall.events WHERE tenant_id = %(t)s)"
            "     + (SELECT count(*) FROM pgrecall.runs WHERE tenant_id = %(t)s)",
            {"e": ops.EXPORT_TENANT, "t": ops.TENANT},
        ).fetchone()
    assert left == (0,)
