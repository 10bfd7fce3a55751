"""Documents, versioned analyses, embedding models and embeddings (issue 4)."""

from __future__ import annotations

import hashlib
import math
import threading
from typing import Any
from uuid import UUID

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from waits import WAITING_ON_A_LOCK, wait_for

import pgrecall
from pgrecall import ConflictError, NotFoundError, Query, TenantMissingError, ValidationError
from pgrecall.areas.embeddings import for_dimensions, uuid7
from pgrecall.models.knowledge import Document
from pgrecall.query.resources import project_queries

MODEL = "mini"


def vec(*head: float, dims: int = 3) -> list[float]:
    """A vector of ``dims`` values starting with ``head`` (rest 0.0)."""
    return [*head, *([0.0] * (dims - len(head)))]


def doc_text(store: pgrecall.Store, q: str, tenant: str = "acme") -> list[str]:
    with store.session(tenant=tenant) as s:
        return [h.title for h in s.search.text(q)]


def test_document_add_dedupe_get_update_delete(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        d = s.documents.add(
            "stored/a1.pdf",
            data=b"%PDF-1.7 hello",
            original_filename="Report.pdf",
            storage_uri="s3://bucket/a1.pdf",
            mime_type="application/pdf",
            title="Quarterly report",
            source="upload",
            conversation_id=c.id,
            metadata={"lang": "en"},
        )
        assert d.sha256 == hashlib.sha256(b"%PDF-1.7 hello").hexdigest()
        assert d.size_bytes == 14 and d.analysis_version == 0 and d.conversation_id == c.id
        again = s.documents.add("stored/a2.pdf", sha256=d.sha256.upper())  # same content
        assert again == d
        assert s.documents.find_by_sha256(d.sha256) == d
        assert s.documents.get(d.id) == d
        updated = s.documents.update(d.id, title="Q3 report", metadata_patch={"pages": 3})
        assert updated.title == "Q3 report" and updated.metadata == {"lang": "en", "pages": 3}
        assert updated.updated_at >= d.updated_at
        replaced = s.documents.update(d.id, metadata={"lang": "de"})
        assert replaced.metadata == {"lang": "de"} and replaced.title == "Q3 report"
        assert s.documents.count() == 1
        assert s.documents.delete(d.id) is True
        assert s.documents.find(d.id) is None and s.documents.delete(d.id) is False
        with pytest.raises(NotFoundError):
            s.documents.update(d.id, title="gone")
        with pytest.raises(ValidationError, match="sha256"):
            s.documents.add("x", sha256="not-a-hash")
        with pytest.raises(ValidationError, match="does not match"):
            s.documents.add("x", data=b"a", sha256=hashlib.sha256(b"b").hexdigest())
        with pytest.raises(ValidationError):
            s.documents.add("")


def test_document_list_filters_and_paging(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        run = s.runs.create("ingest").id
        docs = [
            s.documents.add(
                f"f{i}.txt",
                mime_type="text/plain" if i % 2 else "application/pdf",
                conversation_id=c.id if i < 3 else None,
                run_id=run if i == 4 else None,
                source="crawl" if i == 5 else "upload",
                metadata={"batch": i // 3},
            )
            for i in range(6)
        ]
        first = s.documents.list(limit=4)
        assert [d.filename for d in first] == ["f5.txt", "f4.txt", "f3.txt", "f2.txt"]
        rest = s.documents.list(limit=4, after=first[-1])
        assert [d.filename for d in rest] == ["f1.txt", "f0.txt"]

        def names(found: list[Document]) -> set[str]:
            return {d.filename for d in found}

        assert names(s.documents.list(conversation_id=c.id)) == {"f0.txt", "f1.txt", "f2.txt"}
        assert names(s.documents.list(run_id=run)) == {"f4.txt"}
        assert names(s.documents.list(source="crawl")) == {"f5.txt"}
        assert names(s.documents.list(mime_type="text/plain")) == {"f1.txt", "f3.txt", "f5.txt"}
        assert names(s.documents.list(metadata={"batch": 1})) == {"f3.txt", "f4.txt", "f5.txt"}
        assert len(docs) == s.documents.count() == 6
        s.conversations.purge(c.id)  # documents stay, unlinked
        assert s.documents.list(conversation_id=c.id) == []
        assert s.documents.get(docs[0].id).conversation_id is None


def test_tsvector_kept_on_insert_update_and_new_analysis(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        d = s.documents.add("q3_budget-review.pdf", title="Harbour logistics")
        s.documents.add("other.txt", title="Unrelated")
    assert doc_text(store, "harbour") == ["Harbour logistics"]
    assert doc_text(store, "budget") == ["Harbour logistics"]  # file name words
    with store.session(tenant="acme") as s:
        s.documents.update(d.id, title="Airport logistics", metadata={"author": "Grace Hopper"})
    assert doc_text(store, "harbour") == []
    assert doc_text(store, "airport") == doc_text(store, "hopper") == ["Airport logistics"]
    with store.session(tenant="acme") as s:
        s.analyses.add(d.id, summary="Freight volumes doubled", tags=["shipping"], category="ops")
    assert doc_text(store, "freight") == doc_text(store, "shipping") == ["Airport logistics"]
    with store.session(tenant="acme") as s:
        s.analyses.add(d.id, summary="A second look at cranes")
        s.documents.update(d.id, title="Airport logistics 2")  # recomputes with the latest
    assert doc_text(store, "freight") == []  # only the latest analysis is searchable
    assert doc_text(store, "cranes") == ["Airport logistics 2"]
    assert doc_text(store, "hopper") == ["Airport logistics 2"]


def test_analysis_versions_latest_history_and_immutability(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        d1 = s.documents.add("a.txt")
        d2 = s.documents.add("b.txt")
        d3 = s.documents.add("c.txt")
        a1 = s.analyses.add(d1.id, summary="v1", raw_response={"choices": [1, 2]}, trace_id="tr")
        a2 = s.analyses.add(d1.id, summary="v2", tags=["x", "y"], provider="p", model="m")
        b1 = s.analyses.add(d2.id, summary="only", raw_response=["any", "json"])
        assert (a1.version, a2.version, b1.version) == (1, 2, 1)
        assert a1.raw_response == {"choices": [1, 2]} and b1.raw_response == ["any", "json"]
        assert s.documents.get(d1.id).analysis_version == 2
        assert s.analyses.latest(d1.id) == a2 and s.analyses.latest(d3.id) is None
        assert s.analyses.latest_many([d1.id, d2.id, d3.id]) == {d1.id: a2, d2.id: b1}
        assert [a.version for a in s.analyses.history(d1.id)] == [2, 1]
        assert s.analyses.version(d1.id, 1) == a1 and s.analyses.get(a2.id) == a2
        with pytest.raises(NotFoundError):
            s.analyses.version(d1.id, 3)
        with pytest.raises(NotFoundError), s.savepoint() as inner:
            inner.analyses.add(uuid7(), summary="no such document")
        tamper = Query.from_string(
            "t", "exec", "UPDATE pgrecall.analyses SET summary = 'x' WHERE tenant_id = :tenant_id"
        )
        with pytest.raises(ConflictError, match="immutable"), s.savepoint() as inner:
            inner.db.execute(tamper, tenant_id="acme")
        assert s.documents.delete(d1.id)
        assert s.analyses.latest_many([d1.id]) == {}


def test_two_concurrent_analyses_get_versions_1_and_2(store: pgrecall.Store, db_url: str) -> None:
    with store.session(tenant="acme") as s:
        doc = s.documents.add("a.txt").id
    versions: list[int] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with store.session(tenant="acme") as s:
                versions.append(s.analyses.add(doc, summary="second").version)
        except BaseException as exc:
            errors.append(exc)

    with store.session(tenant="acme") as s:
        versions.append(s.analyses.add(doc, summary="first").version)
        thread = threading.Thread(target=second)
        thread.start()  # it waits for the document row lock: seen in pg_stat_activity
        wait_for(db_url, WAITING_ON_A_LOCK, (1, "pgrecall"), what="the second analysis waits")
        assert versions == [1]
    thread.join()
    assert errors == [] and versions == [1, 2]


def test_threads_analysing_one_document_get_distinct_versions(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        doc = s.documents.add("a.txt").id
    start = threading.Barrier(4)
    versions: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(10):
                with store.session(tenant="acme") as s:
                    versions.append(s.analyses.add(doc, summary="x").version)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(versions) == list(range(1, 41))
    with store.session(tenant="acme") as s:
        assert s.documents.get(doc).analysis_version == 40


def test_embedding_models(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        m = s.embeddings.declare_model(MODEL, dimensions=3, description="tiny")
        assert (m.name, m.dimensions, m.description) == (MODEL, 3, "tiny")
        assert s.embeddings.declare_model(MODEL, dimensions=3) == m  # idempotent
        with pytest.raises(ValidationError, match="declared with 3 dimensions"):
            s.embeddings.declare_model(MODEL, dimensions=4)
        s.embeddings.declare_model("big", dimensions=1536)
        assert [x.name for x in s.embeddings.models()] == ["big", MODEL]
        s.embeddings.add("x", vec(1.0), model=MODEL)
        with pytest.raises(ConflictError), s.savepoint() as inner:
            inner.embeddings.delete_model(MODEL)  # vectors of it are stored
        assert s.embeddings.delete_model("big") is True
        with pytest.raises(NotFoundError):
            s.embeddings.model("big")
        with pytest.raises(ValidationError, match="not declared"):
            s.embeddings.add("x", vec(1.0), model="big")
    with store.session(tenant="other") as s:  # models are per tenant
        assert s.embeddings.models() == []


def test_embeddings_add_get_upsert_chunks_delete(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        d = s.documents.add("a.txt")
        a = s.analyses.add(d.id, summary="s")
        mem = s.memories.add("likes tea")
        e0 = s.embeddings.add("zero", vec(1, 0, 0), model=MODEL, document_id=d.id)
        e1 = s.embeddings.add(
            "one", [0.5, 0.25, 0.125], model=MODEL, document_id=d.id, chunk_index=1,
            source={"page": 2},
        )  # fmt: skip
        ea = s.embeddings.add("summary", vec(0, 1), model=MODEL, document_id=d.id, analysis_id=a.id)
        em = s.embeddings.add("memory", np.array([0, 0, 1.0]), model=MODEL, memory_id=mem.id)
        assert s.embeddings.get(e1.id) == e1 and e1.embedding == [0.5, 0.25, 0.125]
        assert e1.dimensions == 3 and e1.source == {"page": 2}
        assert [c.content for c in s.embeddings.chunks(d.id)] == ["zero", "summary", "one"]
        new = s.embeddings.upsert(e0.id, "zero v2", vec(0, 0, 2), model=MODEL, document_id=d.id)
        assert new.id == e0.id and new.content == "zero v2" and new.embedding == [0, 0, 2]
        fresh = s.embeddings.upsert(uuid7(), "new", vec(1, 1), model=MODEL)
        assert s.embeddings.count() == 5 and s.embeddings.count(model="other") == 0
        assert s.embeddings.delete(fresh.id) and not s.embeddings.delete(fresh.id)
        with pytest.raises(ValidationError, match="memory belongs to no document"):
            s.embeddings.add("x", vec(1), model=MODEL, memory_id=mem.id, document_id=d.id)
        s.memories.forget(mem.id)  # cascades to its chunk
        with pytest.raises(NotFoundError):
            s.embeddings.get(em.id)
        s.documents.delete(d.id)  # cascades to analyses and chunks
        assert s.embeddings.count() == 0 and ea.analysis_id == a.id


def test_add_many_numpy_lists_and_upsert(store: pgrecall.Store) -> None:
    rng = np.random.default_rng(7)
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        d = s.documents.add("a.txt")
        arr = rng.standard_normal((50, 3)).astype(np.float32)
        ids = s.embeddings.add_many(
            [f"c{i}" for i in range(50)], arr, model=MODEL, document_id=d.id,
            sources=[{"i": i} for i in range(50)],
        )  # fmt: skip
        assert len(ids) == 50 and len(set(ids)) == 50 and ids == sorted(ids)  # UUID v7 order
        chunks = s.embeddings.chunks(d.id)
        assert [c.chunk_index for c in chunks] == list(range(50))
        assert [c.id for c in chunks] == ids
        assert np.array_equal(np.array([c.embedding for c in chunks], dtype=np.float32), arr)
        assert chunks[7].source == {"i": 7} and chunks[7].document_id == d.id
        more = s.embeddings.add_many(
            ["a", "b"], [[1.0, 2.0, 3.0], np.array([4.0, 5.0, 6.0])], model=MODEL,
            chunk_indexes=[10, 11],
        )  # fmt: skip
        assert s.embeddings.get(more[1]).embedding == [4.0, 5.0, 6.0]
        s.embeddings.add_many(["a2", "z"], [[1, 1, 1], [2, 2, 2]], model=MODEL,
                              ids=[more[0], uuid7()], upsert=True)  # fmt: skip
        assert s.embeddings.get(more[0]).content == "a2" and s.embeddings.count() == 53
        with pytest.raises(ConflictError), s.savepoint() as inner:
            inner.embeddings.add_many(["dup"], [[1, 1, 1]], model=MODEL, ids=[more[0]])
        with pytest.raises(ValidationError, match="ids has 1 items"):
            s.embeddings.add_many(["a", "b"], [[1, 1, 1]] * 2, model=MODEL, ids=[uuid7()])
        assert s.embeddings.add_many([], [], model=MODEL) == []
        assert s.embeddings.count() == 53


BAD_VECTORS: list[tuple[Any, str]] = [
    ([1.0, 2.0], "has 2 dimensions, the model declares 3"),
    ([1.0, 2.0, 3.0, 4.0], "has 4 dimensions"),
    ([1.0, math.nan, 0.0], "NaN or infinity"),
    ([math.inf, 0.0, 0.0], "NaN or infinity"),
    ([-math.inf, 1.0, 0.0], "NaN or infinity"),
    ([1e39, 0.0, 0.0], "beyond float32"),
    ([0.0, 0.0, 0.0], "zero vector"),
    (["a", "b", "c"], "only numbers"),
    ("abc", "sequence of floats"),
    (np.array([1.0, np.nan, 2.0]), "NaN or infinity"),
    (np.array([1.0, 2.0]), "has 2 dimensions"),
    (np.zeros((2, 3)), "1-D|zero vector"),
]


def test_bad_vectors_rejected_before_sql(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        for bad, message in BAD_VECTORS:
            with pytest.raises(ValidationError, match=message):
                s.embeddings.add("x", bad, model=MODEL)
            with pytest.raises(ValidationError, match=message):
                s.embeddings.add_many(["ok", "bad"], [[1.0, 2.0, 3.0], bad], model=MODEL)
            with pytest.raises(ValidationError, match=message):
                s.search.vector(bad, model=MODEL)
            with pytest.raises(ValidationError, match=message):
                s.memories.add("m", embedding=bad, model=MODEL)
        assert s.embeddings.count() == 0  # nothing half-written
        assert s.memories.list() == []


def test_add_many_numpy_rows_checked_in_bulk(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        arr = np.ones((4, 3))
        arr[2, 1] = np.inf
        with pytest.raises(ValidationError, match=r"embeddings\[2\] contains NaN"):
            s.embeddings.add_many(list("abcd"), arr, model=MODEL)
        with pytest.raises(ValidationError, match="2-D array"):
            s.embeddings.add_many(["a"], np.ones(3), model=MODEL)
        with pytest.raises(ValidationError, match="has 4 dimensions"):
            s.embeddings.add_many(["a"], np.ones((1, 4)), model=MODEL)
        assert s.embeddings.count() == 0


def test_vector_round_trip_property(store: pgrecall.Store) -> None:
    dims = 8
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model(MODEL, dimensions=dims)
    f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
    vectors = st.lists(f32, min_size=dims, max_size=dims).filter(lambda v: any(v))

    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(vectors, st.text(max_size=50).filter(lambda t: "\x00" not in t))
    def run(v: list[float], content: str) -> None:
        with store.session(tenant="acme") as s:
            try:
                e = s.embeddings.add(content, v, model=MODEL)
            except ValidationError as exc:
                sane = 2.0**-120 <= sum(x * x for x in v) <= 2.0**120  # float32 cosine
                assert "norm" in str(exc) if not sane else "UTF-8" in str(exc)
                return
            back = s.embeddings.get(e.id)
            assert back.embedding == v and back.content == content
            (many,) = s.embeddings.add_many([content], np.array([v], dtype=np.float32), model=MODEL)
            assert s.embeddings.get(many).embedding == v

    run()


def test_for_dimensions_rewrites_only_the_marked_literals() -> None:
    q = project_queries().search_vector
    assert for_dimensions(q, 384) is q
    q768 = for_dimensions(q, 768)
    assert b"vector(384)" not in q768.sql and b"dimensions = 384" not in q768.sql
    assert q768.sql.count(b"vector(768)") == q.sql.count(b"vector(384)") == 2
    assert q768.params == q.params and for_dimensions(q, 768) is q768
    with pytest.raises(pgrecall.QueryError, match="@dims"):
        for_dimensions(project_queries().get_document, 768)
    with pytest.raises(ValidationError):
        for_dimensions(q, 0)


# -- tenancy -------------------------------------------------------------------------

KNOWLEDGE_TABLES = {"documents", "analyses", "embedding_models", "embeddings", "memories"}
def seed_tenant(store: pgrecall.Store, tenant: str) -> dict[str, UUID]:
    with store.session(tenant=tenant) as s:
        s.embeddings.declare_model(MODEL, dimensions=3)
        d = s.documents.add(f"{tenant}.txt", title=f"secret {tenant}", data=b"same bytes")
        a = s.analyses.add(d.id, summary=f"summary {tenant}")
        (e,) = s.embeddings.add_many([f"chunk {tenant}"], [[1.0, 0.0, 0.0]], model=MODEL,
                                     document_id=d.id)  # fmt: skip
        m = s.memories.add(f"memory {tenant}", user_id="u", embedding=[1, 0, 0], model=MODEL)
        return {"documents": d.id, "analyses": a.id, "embeddings": e, "memories": m.id}


def test_rls_isolates_knowledge_tables(app_store: pgrecall.Store) -> None:
    ids = {t: seed_tenant(app_store, t) for t in ("t1", "t2")}
    count = {
        table: Query.from_string(table, "scalar", f"SELECT count(*) FROM pgrecall.{table}")
        for table in sorted(KNOWLEDGE_TABLES)
    }
    with app_store.session(tenant="t1") as s:
        # Without a tenant filter in the SQL, RLS alone hides t2's rows.
        assert {t: s.db.scalar(q, int) for t, q in count.items()} == dict.fromkeys(count, 1)
        assert [h.title for h in s.search.text("secret")] == ["secret t1"]
        assert [h.content for h in s.search.vector([1, 0, 0], model=MODEL)] == ["chunk t1"]
        assert [m.content for m in s.memories.recall([1, 0, 0], model=MODEL)] == ["memory t1"]
        with pytest.raises(NotFoundError):
            s.documents.get(ids["t2"]["documents"])
        with pytest.raises(NotFoundError), s.savepoint() as inner:
            inner.analyses.add(ids["t2"]["documents"], summary="into t2")
    for table in sorted(KNOWLEDGE_TABLES - {"analyses"}):
        key = "name" if table == "embedding_models" else "id"
        steal = Query.from_string(
            "steal", "exec", f"UPDATE pgrecall.{table} SET tenant_id = 't2' WHERE {key} IS NOT NULL"
        )
        with app_store.session(tenant="t1") as s, pytest.raises(TenantMissingError):
            s.db.execute(steal)  # moving its rows to another tenant violates WITH CHECK
    with app_store.connection() as db:  # no tenant: nothing visible
        assert all(db.scalar(q, int) == 0 for q in count.values())


CATALOG = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, a.attnotnull,
       obj_description(c.oid, 'pg_class') IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_policy p
               WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'),
       has_table_privilege('pgrecall_app', c.oid, 'SELECT, INSERT')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'pgrecall'
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relkind = 'r' AND c.relname = ANY(%s)
"""
KEYS = """
SELECT c.conrelid::regclass::text, c.conname,
       (SELECT attnum FROM pg_attribute WHERE attrelid = c.conrelid AND attname = 'tenant_id')
           = ANY(c.conkey),
       c.confrelid = 0 OR (SELECT attnum FROM pg_attribute
                           WHERE attrelid = c.confrelid AND attname = 'tenant_id') = ANY(c.confkey)
FROM pg_constraint c
WHERE c.contype IN ('p', 'u', 'f') AND c.conrelid::regclass::text = ANY(%s)
"""
INDEXES = """
SELECT i.indexrelid::regclass::text,
       obj_description(i.indexrelid, 'pg_class') IS NOT NULL
       OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid),
       i.indisvalid
FROM pg_index i
WHERE i.indrelid::regclass::text = ANY(%s)
"""


def test_catalog_knowledge_tables_are_tenant_tables(db_url: str) -> None:
    names = sorted(KNOWLEDGE_TABLES)
    qualified = [f"pgrecall.{t}" for t in names]
    with psycopg.connect(db_url) as conn:
        tables = conn.execute(CATALOG, (names,)).fetchall()
        keys = conn.execute(KEYS, (qualified,)).fetchall()
        indexes = conn.execute(INDEXES, (qualified,)).fetchall()
        hnsw = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c"
            " ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'hnsw'"
        ).fetchall()
    assert sorted(t[0] for t in tables) == names
    assert [t for t in tables if t[1:] != (True,) * 6] == []
    assert len(keys) >= 15 and [k for k in keys if not (k[2] and k[3])] == []
    assert [i for i in indexes if not (i[1] and i[2])] == []  # valid; commented or a key
    owners, dims = ("embeddings", "memories"), (384, 768, 1024, 1536, 3072)  # 3072: halfvec
    quantized = {"pgrecall.embeddings_bq_3072_idx"}  # 0021: binary quantized
    assert {h[0] for h in hnsw} == {
        f"pgrecall.{t}_hnsw_{d}_idx" for t in owners for d in dims
    } | quantized
