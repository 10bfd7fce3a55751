"""``s.embeddings``: embedding models, chunks with vectors, bulk load by binary COPY.

Also the vector plumbing the searches and memories share: input checks (dimension,
NaN / infinity, zero vectors) and :func:`for_dimensions`, which points a query written
for 384 dimensions at the HNSW index of the model's dimension.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence, Sized
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
import pydantic
from pgvector import Vector

from ..errors import ValidationError, translate
from ..models.knowledge import Embedding, EmbeddingModel
from ..query.citus import bulk_insert, is_citus, vector_settings
from ..query.db_async import model_row
from ..query.named import Query, QueryError
from ._base_async import AsyncArea
from .validate import (
    as_uuid,
    check_limit,
    check_seq,
    jsonb,
    opt_text,
    opt_uuid,
)
from .vectors import (
    MAX_DIMENSIONS,
    VectorLike,
    check_chunk_ids,
    check_chunk_index,
    check_content,
    check_dimensions,
    check_model_name,
    check_owners,
    check_vector,
    check_vectors,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "HALFVEC_MAX",
    "HALFVEC_MIN",
    "MAX_DIMENSIONS",
    "AsyncEmbeddings",
    "AsyncVectorArea",
    "VectorLike",
    "check_vector",
    "for_dimensions",
    "uuid7",
]

HALFVEC_MIN, HALFVEC_MAX = 2_001, 4_000  # searched as halfvec: HNSW indexes these sizes
_SUBSTITUTED = re.compile(rb"\bvector\((\d+)\)|\bdimensions = (\d+)\b")
_specialized: dict[tuple[bytes, int], Query] = {}
_uuid_lock = threading.Lock()
_last_uuid = 0


def for_dimensions(query: Query, dims: int) -> Query:
    """``query`` (marked ``-- @dims 384``) with ``vector(384)`` and ``dimensions = 384``
    replaced by ``dims``, so that it matches the partial HNSW index of that dimension.

    From 2,001 to 4,000 dimensions (beyond HNSW's 2,000 for ``vector``) the casts are
    ``halfvec(dims)``, matching the ``halfvec`` expression indexes (migration 0020):
    half-precision distances, found through the index. ``dims`` is a validated
    integer, never user text.
    """
    written = query.directives.get("dims", "")
    if not written.isdigit():
        raise QueryError(f"{query.where}: {query.name} has no '-- @dims N' directive")
    dims = check_dimensions(dims)
    if int(written) == dims:
        return query
    key = (query.sql, dims)
    found = _specialized.get(key)
    if found is None:
        old, new = written.encode(), str(dims).encode()

        def swap(m: re.Match[bytes]) -> bytes:
            if old not in (m.group(1), m.group(2)):
                raise QueryError(f"{query.where}: {query.name}: {m.group(0)!r} is not {written}")
            if m.group(1) and HALFVEC_MIN <= dims <= HALFVEC_MAX:
                return b"halfvec(" + new + b")"
            return m.group(0).replace(old, new)

        found = dataclasses.replace(
            query,
            source=_SUBSTITUTED.sub(swap, query.source.encode()).decode(),
            sql=_SUBSTITUTED.sub(swap, query.sql),
        )
        _specialized[key] = found
    return found


def uuid7() -> UUID:
    """A UUID v7 made client-side: ms timestamp + random, like ``pgrecall.uuid_v7()``,
    and monotonic within the process (a batch of ids sorts in creation order)."""
    global _last_uuid
    payload = (time.time_ns() // 1_000_000) << 74 | int.from_bytes(os.urandom(10), "big") >> 6
    with _uuid_lock:
        payload = _last_uuid = max(payload, _last_uuid + 1)
    high, low = payload >> 62, payload & (2**62 - 1)  # ms + rand_a (60 bits), rand_b (62)
    return UUID(int=(high >> 12) << 80 | 0x7 << 76 | (high & 0xFFF) << 64 | 0x2 << 62 | low)


# (database, tenant, model) -> declared dimension, shared by every session of the
# process: a search needs no lookup round trip. A model's dimension changes only by
# delete_model + declare_model; this process updates the entry when it does either,
# and every vector search re-reads the model in its own pipeline (no extra round
# trip), so a change made elsewhere is caught by the next search (search_pipeline).
_DIMS: dict[tuple[str, str, str], int] = {}
_MAX_DIMS_CACHED = 10_000


def _dims_key(conn: Any, tenant: str, model: str) -> tuple[str, str, str]:
    info = conn.info
    return f"{info.host}:{info.port}/{info.dbname}", tenant, model


class AsyncVectorArea(AsyncArea):
    """An area that takes vectors: knows the declared dimension of each model."""

    _dims: dict[str, int] | None = None  # the dimensions this area's statements used

    def _remember(self, model: str, dims: int | None) -> None:
        key = _dims_key(self.db.conn, self.t, model)
        if dims is None:
            _DIMS.pop(key, None)
            if self._dims:
                self._dims.pop(model, None)
            return
        if len(_DIMS) >= _MAX_DIMS_CACHED:
            _DIMS.clear()
        _DIMS[key] = dims

    async def dimensions_of(self, model: str, *, fresh: bool = False) -> int:
        """The declared dimension of ``model``; :class:`ValidationError` if undeclared.

        Cached per process (``fresh=True`` reads the database); searches verify it.
        """
        model = check_model_name(model)
        dims = None if fresh else _DIMS.get(_dims_key(self.db.conn, self.t, model))
        if dims is None:
            found = await self.db.one(
                self.q.get_embedding_model, EmbeddingModel, tenant_id=self.t, name=model
            )
            if found is None:
                self._remember(model, None)
                raise ValidationError(
                    f"embedding model {model!r} is not declared: call "
                    f"s.embeddings.declare_model({model!r}, dimensions=N) first"
                )
            dims = found.dimensions
            self._remember(model, dims)
        if self._dims is None:
            self._dims = {}
        self._dims[model] = dims
        return dims

    async def vector_for(self, value: VectorLike, model: str, what: str) -> tuple[Vector, int]:
        dims = await self.dimensions_of(model)
        try:
            return check_vector(value, dims, what), dims
        except ValidationError:  # a cached dimension may be stale: decide on a fresh one
            fresh = await self.dimensions_of(model, fresh=True)
            if fresh == dims:
                raise
            return check_vector(value, fresh, what), fresh

    async def search_pipeline(
        self,
        steps: Sequence[tuple[Query, type[Any], Mapping[str, Any]]],
        *,
        ef_search: int,
        max_scan_tuples: int,
    ) -> list[list[Any]]:
        """Set the HNSW knobs for this transaction and run ``steps``, in one round trip.

        The statements are pipelined: ``set_vector_search`` first (its settings are
        transaction-local, as the session is one transaction), then each step.
        """
        knobs = self.q.set_vector_search
        params = dict(
            ef_search=check_limit(ef_search, 1000),
            max_scan_tuples=check_limit(max_scan_tuples, 10_000_000),
        )
        seen = self._dims or {}
        models = {step[2].get("model") for step in steps}
        used = {m: seen[m] for m in seen if m in models}
        guard = self.q.get_embedding_model
        conn = self.db.conn
        cursors: list[psycopg.AsyncCursor[Any]] = []
        try:
            async with conn.pipeline():
                async with conn.cursor() as cur:
                    for setting, args in vector_settings(conn, knobs, params):
                        await cur.execute(setting, args)
                for model in used:  # the declared dimensions, read in the same round trip
                    cursors.append(conn.cursor(row_factory=model_row(EmbeddingModel)))
                    await cursors[-1].execute(guard.sql, dict(tenant_id=self.t, name=model))
                for query, row, step_params in steps:
                    cursors.append(conn.cursor(row_factory=model_row(row)))
                    await cursors[-1].execute(query.sql, query.bind(step_params) or None)
            # fetched after the pipeline's Sync: fetching inside it flushes and waits
            # once per cursor (a round trip each)
            results = [await cur.fetchall() for cur in cursors]
        except psycopg.Error as exc:
            raise translate(exc) from exc
        except pydantic.ValidationError as exc:
            raise ValidationError(f"search row does not fit its model: {exc}") from exc
        finally:
            for cur in cursors:
                await cur.close()
        for (model, dims), declared in zip(used.items(), results, strict=False):
            self._check_declared(model, dims, declared)
        return results[len(used) :]

    def _check_declared(self, model: str, dims: int, declared: list[EmbeddingModel]) -> None:
        """The searched dimension was the declared one (else the search saw no rows)."""
        now = declared[0].dimensions if declared else None
        if now == dims:
            return
        self._remember(model, now)
        if now is None:
            raise ValidationError(f"embedding model {model!r} is not declared (any more)")
        raise ValidationError(
            f"embedding has {dims} dimensions, the model {model!r} declares {now} "
            "(it was redeclared)"
        )


class AsyncEmbeddings(AsyncVectorArea):
    async def declare_model(
        self, name: str, *, dimensions: int, description: str | None = None
    ) -> EmbeddingModel:
        """Declare an embedding model and its dimension (idempotent).

        Declaring a known name with another dimension is a :class:`ValidationError`:
        a model's vectors all have one length.
        """
        found = await self.db.one(
            self.q.declare_embedding_model,
            EmbeddingModel,
            tenant_id=self.t,
            name=check_model_name(name),
            dimensions=check_dimensions(dimensions),
            description=opt_text(description, "description", 10_000),
        )
        if found is None:  # declared with another dimension: nothing was written
            found = await self.model(name)
        self._remember(found.name, None)  # read again on next use (after this commits)
        if found.dimensions != dimensions:
            raise ValidationError(
                f"embedding model {name!r} is declared with {found.dimensions} dimensions, "
                f"not {dimensions}"
            )
        return found

    async def model(self, name: str) -> EmbeddingModel:
        name = check_model_name(name)
        return await self.db.get(
            self.q.get_embedding_model, EmbeddingModel, tenant_id=self.t, name=name
        )

    async def models(self) -> list[EmbeddingModel]:
        return await self.db.many(self.q.list_embedding_models, EmbeddingModel, tenant_id=self.t)

    async def delete_model(self, name: str) -> bool:
        """Forget a model; :class:`ConflictError` while vectors of it are stored."""
        n = await self.db.execute(
            self.q.delete_embedding_model, tenant_id=self.t, name=check_model_name(name)
        )
        self._remember(check_model_name(name), None)
        return n > 0

    async def add(
        self,
        content: str,
        embedding: VectorLike,
        *,
        model: str,
        document_id: UUID | str | None = None,
        analysis_id: UUID | str | None = None,
        memory_id: UUID | str | None = None,
        chunk_index: int = 0,
        source: dict[str, Any] | None = None,
        id: UUID | str | None = None,
    ) -> Embedding:
        """Store one chunk and its vector (checked against the model's dimension)."""
        owners = check_owners(document_id, analysis_id, memory_id)
        return await self._store(
            self.q.add_embedding,
            opt_uuid(id, "id"),
            content,
            embedding,
            model,
            owners,
            chunk_index=chunk_index,
            source=source,
        )

    async def upsert(
        self,
        id: UUID | str,
        content: str,
        embedding: VectorLike,
        *,
        model: str,
        document_id: UUID | str | None = None,
        analysis_id: UUID | str | None = None,
        memory_id: UUID | str | None = None,
        chunk_index: int = 0,
        source: dict[str, Any] | None = None,
    ) -> Embedding:
        """Insert the chunk ``id``, or replace all its fields when it exists."""
        owners = check_owners(document_id, analysis_id, memory_id)
        return await self._store(
            self.q.upsert_embedding,
            as_uuid(id),
            content,
            embedding,
            model,
            owners,
            chunk_index=chunk_index,
            source=source,
        )

    async def _store(
        self,
        query: Query,
        id: UUID | None,
        content: str,
        embedding: VectorLike,
        model: str,
        owners: dict[str, UUID | None],
        *,
        chunk_index: int,
        source: dict[str, Any] | None,
    ) -> Embedding:
        vector, dims = await self.vector_for(embedding, model, "embedding")
        row = await self.db.one(
            query,
            Embedding,
            tenant_id=self.t,
            id=id,
            content=check_content(content, "content"),
            embedding=vector,
            model=model,
            dimensions=dims,
            chunk_index=check_chunk_index(chunk_index, "chunk_index"),
            source=jsonb(source, "source"),
            **owners,
        )
        assert row is not None  # INSERT ... RETURNING always returns the row
        return row

    async def add_many(
        self,
        contents: Sequence[str],
        embeddings: Sequence[VectorLike] | npt.NDArray[np.floating[Any]],
        *,
        model: str,
        document_id: UUID | str | None = None,
        analysis_id: UUID | str | None = None,
        memory_id: UUID | str | None = None,
        chunk_indexes: Sequence[int] | None = None,
        sources: Sequence[dict[str, Any] | None] | None = None,
        ids: Sequence[UUID | str] | None = None,
        upsert: bool = False,
    ) -> list[UUID]:
        """Bulk-store chunks through binary COPY; returns their ids, in order.

        ``embeddings`` is a 2-D numpy array (one row per chunk) or a sequence of
        vectors (lists, 1-D arrays). Every row is checked before anything is sent.
        ``chunk_indexes`` defaults to 0, 1, 2 ...; ``ids`` default to new UUID v7s;
        with ``upsert=True`` chunks whose id exists are replaced. Row level security
        refuses COPY into the table itself, so the rows are copied into a temporary
        stage and moved with one ``INSERT ... SELECT``. After a large load, run
        ``ANALYZE pgrecall.embeddings``.
        """
        if isinstance(contents, str) or not isinstance(contents, Sequence):
            raise ValidationError("contents must be a sequence of text")
        n = len(contents)
        dims = await self.dimensions_of(model)
        try:
            vectors = check_vectors(embeddings, dims, "embeddings")
        except ValidationError:  # a cached dimension may be stale: decide on a fresh one
            fresh = await self.dimensions_of(model, fresh=True)
            if fresh == dims:
                raise
            dims, vectors = fresh, check_vectors(embeddings, fresh, "embeddings")
        texts = [check_content(c, f"contents[{i}]") for i, c in enumerate(contents)]
        indexes = (
            list(range(n)) if chunk_indexes is None else check_seq(chunk_indexes, "chunk_indexes")
        )
        chunk_ids = [uuid7() for _ in range(n)] if ids is None else check_chunk_ids(ids)
        metas = [None] * n if sources is None else check_seq(sources, "sources")
        lengths: dict[str, Sized] = {"embeddings": vectors, "chunk_indexes": indexes}
        for name, seq in {**lengths, "ids": chunk_ids, "sources": metas}.items():
            if len(seq) != n:
                raise ValidationError(f"{name} has {len(seq)} items, contents has {n}")
        owner = check_owners(document_id, analysis_id, memory_id)
        doc, analysis, memory = owner["document_id"], owner["analysis_id"], owner["memory_id"]
        rows = [
            (
                chunk_ids[i],
                doc,
                analysis,
                memory,
                check_chunk_index(indexes[i], f"chunk_indexes[{i}]"),
                texts[i],
                vectors[i],
                model,
                dims,
                jsonb(metas[i], f"sources[{i}]"),
            )
            for i in range(n)
        ]
        if not rows:
            return []
        if is_citus(self.db.conn):  # RLS refuses the stage's INSERT ... SELECT there
            for stmt, args in bulk_insert("embeddings", self.t, rows, upsert=upsert):
                await self.db.run(stmt, args)
            return chunk_ids
        await self.db.execute(self.q.create_embedding_stage)
        await self.db.copy(self.q.copy_embedding_stage, rows)
        move = self.q.upsert_embedding_stage if upsert else self.q.insert_embedding_stage
        await self.db.execute(move, tenant_id=self.t)
        return chunk_ids

    async def get(self, id: UUID | str) -> Embedding:
        return await self.db.get(self.q.get_embedding, Embedding, tenant_id=self.t, id=as_uuid(id))

    async def chunks(
        self, document_id: UUID | str, *, model: str | None = None, limit: int = 10_000
    ) -> list[Embedding]:
        """A document's chunks in order (``model`` None = every model)."""
        return await self.db.many(
            self.q.document_chunks,
            Embedding,
            tenant_id=self.t,
            document_id=as_uuid(document_id, "document_id"),
            model=None if model is None else check_model_name(model),
            limit=check_limit(limit, 1_000_000),
        )

    async def count(self, *, model: str | None = None) -> int:
        return await self.db.scalar(
            self.q.count_embeddings,
            int,
            tenant_id=self.t,
            model=None if model is None else check_model_name(model),
        )

    async def delete(self, id: UUID | str) -> bool:
        return await self.db.execute(self.q.delete_embedding, tenant_id=self.t, id=as_uuid(id)) > 0

    async def delete_for_document(
        self, document_id: UUID | str, *, model: str | None = None
    ) -> int:
        """Delete a document's chunks (of one model), e.g. before re-embedding it."""
        return await self.db.execute(
            self.q.delete_document_embeddings,
            tenant_id=self.t,
            document_id=as_uuid(document_id, "document_id"),
            model=None if model is None else check_model_name(model),
        )
