"""Raw psycopg: pgrecall's SQL text (the compiled ``%(name)s`` form) on a plain pool.

Every function does what the matching pgrecall call sends to the server — the same
statements, in the same transaction shape, tenant set with ``set_config`` — and
fetches plain tuples: no validation, no pydantic, no query layer. It is the lower
bound, not a way anyone should write an application.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from pgrecall.areas.embeddings import for_dimensions
from pgrecall.query.resources import project_queries

__all__ = [
    "chat_turn", "copy_and_build", "get_chunk", "get_message", "hybrid_search", "open_pool",
    "plan_of_vector_search", "scans", "search_one_trip", "vector_search",
]

Row = tuple[Any, ...]
_SET_TENANT = b"SELECT set_config('pgrecall.tenant_id', %s, true)"
_q = project_queries()


def _configure(conn: psycopg.Connection[Any]) -> None:
    register_vector(conn)
    conn.rollback()


def open_pool(url: str, size: int) -> ConnectionPool[psycopg.Connection[Row]]:
    """A psycopg pool of ``size`` connections with the pgvector types registered."""
    return ConnectionPool(url, min_size=size, max_size=size, configure=_configure, open=True)


def _begin(conn: psycopg.Connection[Row], tenant: str) -> None:
    conn.execute(_SET_TENANT, (tenant,), prepare=True)


def chat_turn(
    pool: ConnectionPool[psycopg.Connection[Row]],
    tenant: str,
    conversation_id: UUID,
    role: str,
    content: str,
    n: int = 20,
) -> list[Row]:
    """Append a message and read the newest ``n``, in one transaction."""
    append, last = _q.append_message, _q.last_messages
    with pool.connection() as conn, conn.transaction():
        _begin(conn, tenant)
        conn.execute(
            append.sql,
            dict(
                tenant_id=tenant, conversation_id=conversation_id, role=role, content=content,
                thinking=None, metadata=Jsonb({}), token_count=0, input_tokens=None,
                output_tokens=None, model=None, latency_ms=None, request_id=None, source=None,
            ),
        ).fetchone()
        return conn.execute(
            last.sql, dict(tenant_id=tenant, conversation_id=conversation_id, n=n)
        ).fetchall()


def get_message(
    pool: ConnectionPool[psycopg.Connection[Row]], tenant: str, id: UUID
) -> Row | None:
    with pool.connection() as conn, conn.transaction():
        _begin(conn, tenant)
        return conn.execute(_q.get_message.sql, dict(tenant_id=tenant, id=id)).fetchone()


def get_chunk(pool: ConnectionPool[psycopg.Connection[Row]], tenant: str, id: UUID) -> Row | None:
    with pool.connection() as conn, conn.transaction():
        _begin(conn, tenant)
        return conn.execute(_q.get_embedding.sql, dict(tenant_id=tenant, id=id)).fetchone()


_NO_FILTERS = dict(document_ids=None, conversation_id=None, document_metadata=None)


def _search(
    pool: ConnectionPool[psycopg.Connection[Row]],
    tenant: str,
    sql: bytes,
    params: dict[str, Any],
    ef_search: int,
) -> list[Row]:
    """``set_vector_search`` and the search pipelined, as ``s.search`` does it."""
    knobs = _q.set_vector_search
    with pool.connection() as conn, conn.transaction():
        _begin(conn, tenant)
        with conn.pipeline():
            conn.execute(knobs.sql, dict(ef_search=ef_search, max_scan_tuples=20_000))
            cur = conn.execute(sql, params)
        return cur.fetchall()


def plan_of_vector_search(
    pool: ConnectionPool[psycopg.Connection[Row]],
    tenant: str,
    embedding: Vector,
    k: int,
    *,
    model: str,
    dims: int,
    ef_search: int = 100,
) -> list[str]:
    """The scans PostgreSQL picks for :func:`vector_search` (``EXPLAIN``)."""
    query = for_dimensions(_q.search_vector, dims)
    params = dict(
        tenant_id=tenant, embedding=embedding, model=model, k=k, source=Jsonb({}), **_NO_FILTERS
    )
    (plan,) = _search(pool, tenant, b"EXPLAIN (FORMAT JSON) " + query.sql, params, ef_search)
    return scans(plan[0])


def scans(plan: Any) -> list[str]:
    """``Node Type`` (and index) of every scan in an ``EXPLAIN (FORMAT JSON)`` plan."""
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Scan" in node.get("Node Type", "") and node["Node Type"] != "CTE Scan":
            index = node.get("Index Name")
            found.append(node["Node Type"] + (f" using {index}" if index else ""))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"] if isinstance(plan, list) else plan["Plan"])
    return found


def vector_search(
    pool: ConnectionPool[psycopg.Connection[Row]],
    tenant: str,
    embedding: Vector,
    k: int,
    *,
    model: str,
    dims: int,
    ef_search: int = 100,
) -> list[Row]:
    query = for_dimensions(_q.search_vector, dims)
    params = dict(
        tenant_id=tenant, embedding=embedding, model=model, k=k, source=Jsonb({}), **_NO_FILTERS
    )
    return search_one_trip(pool, tenant, query.sql, params, ef_search)


def hybrid_search(
    pool: ConnectionPool[psycopg.Connection[Row]],
    tenant: str,
    text: str,
    embedding: Vector,
    k: int,
    *,
    model: str,
    dims: int,
    ef_search: int = 100,
) -> list[Row]:
    query = for_dimensions(_q.search_hybrid, dims)
    params = dict(
        tenant_id=tenant, q=text, config="english", embedding=embedding, model=model, k=k,
        candidates=max(4 * k, 50), rrf_k=60, text_weight=1.0, vector_weight=1.0,
        source=Jsonb({}), **_NO_FILTERS,
    )
    return _search(pool, tenant, query.sql, params, ef_search)


def search_one_trip(
    pool: ConnectionPool[psycopg.Connection[Row]],
    tenant: str,
    sql: bytes,
    params: dict[str, Any],
    ef_search: int = 100,
) -> list[Row]:
    """The search as one statement and one round trip: the tenant, the HNSW settings
    and the query in one pipeline segment (one implicit transaction, autocommit)."""
    knobs = _q.set_vector_search
    with pool.connection() as conn:
        conn.autocommit = True
        try:
            with conn.pipeline():
                conn.execute(_SET_TENANT, (tenant,), prepare=True)
                conn.execute(knobs.sql, dict(ef_search=ef_search, max_scan_tuples=20_000))
                cur = conn.execute(sql, params)
            return cur.fetchall()
        finally:
            conn.autocommit = False


def copy_and_build(url: str, texts: list[str], vectors: Any, *, dims: int) -> float:
    """Raw bulk load: binary COPY into a plain table, then the same HNSW build
    (m 16, ef_construction 64, 512MB, 2 parallel workers) and ANALYZE. Seconds."""
    import time
    import uuid

    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP SCHEMA IF EXISTS bench_raw CASCADE")
        conn.execute("CREATE SCHEMA bench_raw")
        conn.execute(
            f"CREATE TABLE bench_raw.chunks (id uuid PRIMARY KEY, content text NOT NULL,"
            f" embedding vector({int(dims)}) NOT NULL)"
        )
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
            "COPY bench_raw.chunks (id, content, embedding) FROM STDIN (FORMAT BINARY)"
        ) as cp:
            cp.set_types(["uuid", "text", "vector"])
            for text, v in zip(texts, vectors, strict=True):
                cp.write_row((uuid.uuid4(), text, Vector(v)))
        conn.execute(
            "CREATE INDEX ON bench_raw.chunks USING hnsw (embedding vector_cosine_ops)"
        )
        conn.execute("ANALYZE bench_raw.chunks")
        seconds = time.perf_counter() - start
        conn.execute("DROP SCHEMA bench_raw CASCADE")
    return seconds
