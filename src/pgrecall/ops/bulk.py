"""Large embedding loads at index-build speed: ``pgrecall.ops.bulk_load``.

Inserting into a live HNSW index costs ~1-2 ms a row; building the index once after
the load is about ten times cheaper. For a load that is large next to what the
dimension's index already holds, :func:`bulk_load` drops that dimension's HNSW
index(es) concurrently, loads through ``add_many`` (binary COPY) in batches, and
builds the index again with ``CREATE INDEX CONCURRENTLY`` (more
``maintenance_work_mem``, parallel workers), restoring its comment.

While the index is gone, searches of that dimension stay correct: they scan the
tenant's rows of the model exactly (the ``embeddings_model_idx`` b-tree keeps them to
that tenant), which is fast for small tenants and slower for large ones; no search
fails and no write blocks. Other dimensions are not touched. One bulk load per
dimension runs at a time (an advisory lock). Dropping and building indexes needs the
table owner (the role that runs the migrations); the loads themselves go through the
tenant's sessions, with row level security as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import psycopg
from psycopg import sql

from ..areas.validate import check_tenant
from ..errors import ValidationError, translate

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["BULK_REBUILD_FACTOR", "bulk_load", "hnsw_indexes"]

#: ``rebuild_index="auto"`` rebuilds when the load adds more rows than the index
#: holds divided by this (one HNSW insert costs about as much as building ~10 rows).
BULK_REBUILD_FACTOR = 8
_LOCK = "pgrecall.bulk_load"


def hnsw_indexes(conn: psycopg.Connection[Any], dims: int) -> list[tuple[str, str, str | None]]:
    """(name, definition, comment) of the valid HNSW indexes of ``pgrecall.embeddings``
    for ``dims``-dimensional rows (their predicate is ``dimensions = dims``)."""
    rows = conn.execute(
        "SELECT c.relname, pg_get_indexdef(c.oid), obj_description(c.oid, 'pg_class'),"
        "       pg_get_expr(i.indpred, i.indrelid)"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_am am ON am.oid = c.relam"
        " WHERE i.indrelid = 'pgrecall.embeddings'::regclass AND am.amname = 'hnsw'"
        " AND i.indisvalid"
    ).fetchall()
    wanted = re.compile(rf"\(?dimensions = {int(dims)}\)?")
    return [(r[0], r[1], r[2]) for r in rows if r[3] and wanted.fullmatch(r[3].strip())]


def _index_rows(conn: psycopg.Connection[Any], names: Sequence[str]) -> float:
    row = conn.execute(
        "SELECT coalesce(sum(greatest(reltuples, 0)), 0) FROM pg_class"
        " WHERE relnamespace = 'pgrecall'::regnamespace AND relname = ANY(%s)",
        (list(names),),
    ).fetchone()
    return float(row[0]) if row else 0.0


def bulk_load(
    store: Store,
    tenant: str,
    contents: Sequence[str],
    embeddings: Any,
    *,
    model: str,
    sources: Sequence[dict[str, Any] | None] | None = None,
    document_id: UUID | str | None = None,
    batch: int = 10_000,
    rebuild_index: bool | Literal["auto"] = "auto",
    maintenance_work_mem: str = "512MB",
    parallel_workers: int = 2,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> list[UUID]:
    """Store ``contents`` with their ``embeddings`` for ``tenant`` (as ``add_many``,
    in committed batches of ``batch`` rows) and return their ids, in order.

    ``rebuild_index``: ``True`` drops the dimension's HNSW index for the load and
    builds it again afterwards (concurrently); ``False`` keeps it and inserts into it;
    ``"auto"`` rebuilds when the load is larger than the index's rows divided by
    :data:`BULK_REBUILD_FACTOR`. The index is built again even when the load fails
    (rows of committed batches stay). ``workers`` batches load at once, each on its
    own pooled connection (the store's pool needs that many); ``parallel_workers``
    is the index build's. ``progress`` gets the rows loaded so far.
    """
    tenant = check_tenant(tenant)
    if isinstance(contents, str) or not isinstance(contents, Sequence):
        raise ValidationError("contents must be a sequence of text")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1_000_000:
        raise ValidationError("batch must be an integer between 1 and 1000000")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise ValidationError("workers must be an integer between 1 and 64")
    if sources is not None and len(sources) != len(contents):
        raise ValidationError(f"sources has {len(sources)} items, contents has {len(contents)}")
    with store.session(tenant=tenant) as s:
        dims = s.embeddings.dimensions_of(model)
    try:
        with psycopg.connect(store.url, autocommit=True) as admin:
            admin.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", (_LOCK, dims))
            dropped: list[tuple[str, str, str | None]] = []
            try:
                indexes = hnsw_indexes(admin, dims)
                held = _index_rows(admin, [i[0] for i in indexes])
                rebuild = rebuild_index is True or (
                    rebuild_index == "auto" and len(contents) * BULK_REBUILD_FACTOR > held
                )
                if rebuild:
                    for name, definition, comment in indexes:
                        admin.execute(
                            sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(
                                sql.Identifier("pgrecall", name)
                            )
                        )
                        dropped.append((name, definition, comment))
                return _load(store, tenant, contents, embeddings, model, sources, document_id,
                             batch, workers, progress)
            finally:
                _build(admin, dropped, maintenance_work_mem, parallel_workers)
                admin.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", (_LOCK, dims))
    except psycopg.Error as exc:
        raise translate(exc) from exc


def _load(
    store: Store,
    tenant: str,
    contents: Sequence[str],
    embeddings: Any,
    model: str,
    sources: Sequence[dict[str, Any] | None] | None,
    document_id: UUID | str | None,
    batch: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> list[UUID]:
    """The batches, each in its own session, on ``workers`` connections at once; the
    ids in input order. The first failing batch's error is raised (batches that
    committed stay)."""

    def one(start: int) -> list[UUID]:
        stop = min(len(contents), start + batch)
        with store.session(tenant=tenant) as s:
            return s.embeddings.add_many(
                contents[start:stop],
                embeddings[start:stop],
                model=model,
                document_id=document_id,
                sources=None if sources is None else sources[start:stop],
                chunk_indexes=range(start, stop) if document_id is not None else None,
            )

    starts = range(0, len(contents), batch)
    ids: list[UUID] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pgrecall-bulk") as pool:
        futures = [pool.submit(one, start) for start in starts]
        try:
            for future in futures:
                ids += future.result()
                if progress is not None:
                    progress(len(ids))
        finally:
            for future in futures:
                future.cancel()
    return ids


def _build(
    admin: psycopg.Connection[Any],
    dropped: Sequence[tuple[str, str, str | None]],
    maintenance_work_mem: str,
    parallel_workers: int,
) -> None:
    """Build the dropped indexes again, concurrently; an INVALID leftover is dropped."""
    if not dropped:
        return
    admin.execute("SELECT set_config('maintenance_work_mem', %s, false)", (maintenance_work_mem,))
    admin.execute(
        "SELECT set_config('max_parallel_maintenance_workers', %s, false)",
        (str(int(parallel_workers)),),
    )
    for name, definition, comment in dropped:
        create = re.sub(r"^CREATE INDEX ", "CREATE INDEX CONCURRENTLY IF NOT EXISTS ", definition)
        target = sql.Identifier("pgrecall", name)
        try:
            admin.execute(create.encode())
        except psycopg.Error:
            admin.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(target))
            raise
        if comment is not None:
            admin.execute(sql.SQL("COMMENT ON INDEX {} IS {}").format(target, sql.Literal(comment)))
    admin.execute("ANALYZE pgrecall.embeddings")
