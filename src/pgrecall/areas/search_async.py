"""``s.search``: full-text, vector and hybrid (reciprocal rank fusion) search.

User text goes through ``websearch_to_tsquery`` (quotes, ``OR``, ``-word``; any input
is valid). Vector searches run with pgvector 0.8 iterative HNSW scans, set for the
session's transaction, so a filtered search returns ``k`` rows when ``k`` exist.

``filter=`` takes a metadata filter (:mod:`pgrecall.query.filters`): on the document's
``metadata`` in :meth:`AsyncSearch.text`, on the chunk's ``source`` (its metadata) in the
chunk searches, where ``document_filter=`` filters on the chunk's document's metadata.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import sql

from ..errors import ValidationError
from ..models.knowledge import ChunkHit, DocumentHit, HybridHit, TextConfig, VectorHit
from ..query.filters import Filter, Predicate, compile_filter, splice
from ..query.named import Query
from .embeddings_async import AsyncVectorArea, for_dimensions
from .validate import (
    as_uuid,
    check_choice,
    check_json,
    check_limit,
    check_seq,
    check_text,
    jsonb,
    opt_uuid,
)
from .vectors import VectorLike, check_model_name, check_unit

__all__ = [
    "DEFAULT_EF_SEARCH",
    "QUANTIZED_DIMENSIONS",
    "TEXT_CONFIGS",
    "AsyncSearch",
    "check_config",
    "check_query",
]

TEXT_CONFIGS: frozenset[str] = frozenset(("english", "simple"))
DEFAULT_EF_SEARCH = 100
DEFAULT_MAX_SCAN_TUPLES = 20_000  # pgvector's default
QUANTIZED_DIMENSIONS = 3072  # the binary-quantized index of migration 0021
MAX_QUERY = 10_000


def check_config(config: str) -> str:
    """A text search configuration from the allow-list."""
    return check_choice(config, TEXT_CONFIGS, "text search config")


# A run of negations: dashes with nothing between them that could start a word (ASCII
# letters and digits; a double quote opens a phrase). websearch_to_tsquery stacks one
# NOT per dash and fails past 32 ("tsquery stack too small", XX000).
_NOT_RUN = re.compile(r'-(?:[^a-zA-Z0-9"]*-)+')
MAX_NOT_RUN = 16


def _fold_negations(m: re.Match[str]) -> str:
    run = m.group(0)
    dashes = run.count("-")
    if dashes <= MAX_NOT_RUN:
        return run
    return run.replace("-", "") + "-" * (dashes % 2)  # NOT NOT x is x


def check_query(q: str) -> str:
    """User search text, safe for ``websearch_to_tsquery`` whatever it holds.

    Runs of more than 16 negations (``-``) fold to one or none, keeping their parity.
    """
    if not isinstance(q, str):
        raise ValidationError("search text must be text")
    return _NOT_RUN.sub(_fold_negations, check_text(q, "search text", max_len=MAX_QUERY))


def _filters(
    document_ids: Sequence[UUID | str] | None,
    conversation_id: UUID | str | None,
    document_metadata: dict[str, Any] | None,
    source: dict[str, Any] | None,
) -> dict[str, Any]:
    """The filters every chunk search takes (``None`` = no filter)."""
    ids = (
        None
        if document_ids is None
        else [as_uuid(d, "document_ids") for d in check_seq(document_ids, "document_ids")]
    )
    meta = None if document_metadata is None else jsonb(document_metadata, "document_metadata")
    return dict(
        document_ids=ids,
        conversation_id=opt_uuid(conversation_id, "conversation_id"),
        document_metadata=meta,
        source=jsonb(source, "source"),
    )


_IN_DOCUMENT = sql.SQL(
    "EXISTS (SELECT 1 FROM pgrecall.documents AS fd"
    " WHERE fd.tenant_id = e.tenant_id AND fd.id = e.document_id AND {})"
)


class _Filters:
    """The compiled chunk filter (on ``e.source``) and document filter (on the metadata
    of the chunk's document), checked before anything is sent."""

    def __init__(self, filter: Filter | None, document_filter: Filter | None) -> None:
        check_json(filter, "filter")  # what JSON cannot hold, before the compiler sees it
        check_json(document_filter, "document_filter")
        self.chunk = None
        if filter is not None:
            self.chunk = compile_filter(filter, sql.SQL("e.source"), prefix="filter_")
        self.document = None
        if document_filter is not None:
            inner = compile_filter(document_filter, sql.SQL("fd.metadata"), prefix="doc_filter_")
            self.document = Predicate(_IN_DOCUMENT.format(inner.sql), inner.params)
        self.params: dict[str, Any] = {}
        for p in (self.chunk, self.document):
            self.params.update(p.params if p else {})

    def apply(self, query: Query) -> Query:
        """``query`` with the filters spliced in (after ``for_dimensions``, which caches
        its result per statement text)."""
        return splice(query, filter=self.chunk, document_filter=self.document)


def _weight(value: float, what: str) -> float:
    return check_unit(value, what, maximum=1e6)


class AsyncSearch(AsyncVectorArea):
    async def text(
        self,
        q: str,
        k: int = 10,
        *,
        config: TextConfig = "english",
        conversation_id: UUID | str | None = None,
        metadata: dict[str, Any] | None = None,
        filter: Filter | None = None,
    ) -> list[DocumentHit]:
        """Documents matching ``q`` (title, file name, metadata and latest analysis),
        best first, each with a highlighted snippet (``<b>...</b>``, not HTML-escaped).

        ``config``: ``english`` (stemmed, stop words dropped: "runs" finds "running")
        or ``simple`` (words as typed, stop words kept; any language). The column holds
        both lexeme sets, so a ``simple`` word also matches an English stem equal to
        it. Text with no searchable words returns ``[]``. ``filter``: a metadata filter
        on the document's ``metadata`` (:mod:`pgrecall.query.filters`).
        """
        predicate = None
        if filter is not None:
            check_json(filter, "filter")
            predicate = compile_filter(filter, sql.SQL("d.metadata"), prefix="filter_")
        return await self.db.many(
            splice(self.q.search_text, filter=predicate),
            DocumentHit,
            **(predicate.params if predicate else {}),
            tenant_id=self.t,
            q=check_query(q),
            config=check_config(config),
            k=check_limit(k, 1000),
            conversation_id=opt_uuid(conversation_id, "conversation_id"),
            metadata=jsonb(metadata, "metadata"),
        )

    async def chunks(
        self,
        q: str,
        k: int = 10,
        *,
        config: TextConfig = "english",
        model: str | None = None,
        document_ids: Sequence[UUID | str] | None = None,
        conversation_id: UUID | str | None = None,
        document_metadata: dict[str, Any] | None = None,
        source: dict[str, Any] | None = None,
        filter: Filter | None = None,
        document_filter: Filter | None = None,
    ) -> list[ChunkHit]:
        """Chunks whose content matches ``q`` (keyword search), best first.

        Filters as in :meth:`vector`.
        """
        filters = _Filters(filter, document_filter)
        return await self.db.many(
            filters.apply(self.q.search_chunks),
            ChunkHit,
            **filters.params,
            tenant_id=self.t,
            q=check_query(q),
            config=check_config(config),
            k=check_limit(k, 1000),
            model=None if model is None else check_model_name(model),
            **_filters(document_ids, conversation_id, document_metadata, source),
        )

    async def vector(
        self,
        embedding: VectorLike,
        k: int = 10,
        *,
        model: str,
        document_ids: Sequence[UUID | str] | None = None,
        conversation_id: UUID | str | None = None,
        document_metadata: dict[str, Any] | None = None,
        source: dict[str, Any] | None = None,
        filter: Filter | None = None,
        document_filter: Filter | None = None,
        ef_search: int = DEFAULT_EF_SEARCH,
        max_scan_tuples: int = DEFAULT_MAX_SCAN_TUPLES,
    ) -> list[VectorHit]:
        """The ``k`` chunks of ``model`` nearest to ``embedding`` (cosine), nearest first.

        Filters: ``document_ids``, the documents of ``conversation_id`` or whose
        metadata contains ``document_metadata``, chunks whose ``source`` contains
        ``source``; ``filter``: a metadata filter (:mod:`pgrecall.query.filters`) on the
        chunk's ``source``, ``document_filter``: one on its document's ``metadata`` (a
        chunk without a document never passes it). ``ef_search`` trades speed for
        recall; ``max_scan_tuples`` caps how far an iterative scan goes to satisfy very
        selective filters.
        """
        filters = _Filters(filter, document_filter)
        vector, dims = await self.vector_for(embedding, model, "embedding")
        query = filters.apply(for_dimensions(self.q.search_vector, dims))
        params = dict(
            **filters.params,
            tenant_id=self.t,
            embedding=vector,
            model=model,
            k=check_limit(k, 1000),
            **_filters(document_ids, conversation_id, document_metadata, source),
        )
        (hits,) = await self.search_pipeline(
            [(query, VectorHit, params)], ef_search=ef_search, max_scan_tuples=max_scan_tuples
        )
        return hits

    async def hybrid(
        self,
        text: str,
        embedding: VectorLike,
        k: int = 10,
        *,
        model: str,
        config: TextConfig = "english",
        rrf_k: int = 60,
        text_weight: float = 1.0,
        vector_weight: float = 1.0,
        candidates: int | None = None,
        document_ids: Sequence[UUID | str] | None = None,
        conversation_id: UUID | str | None = None,
        document_metadata: dict[str, Any] | None = None,
        source: dict[str, Any] | None = None,
        filter: Filter | None = None,
        document_filter: Filter | None = None,
        ef_search: int = DEFAULT_EF_SEARCH,
        max_scan_tuples: int = DEFAULT_MAX_SCAN_TUPLES,
    ) -> list[HybridHit]:
        """Keyword and vector search fused by reciprocal rank, in one SQL statement.

        Each list contributes ``weight / (rrf_k + rank)`` for the chunks among its
        best ``candidates`` (default ``max(4 * k, 50)``); hits carry the fused
        ``score``, both ranks (``None`` when absent from a list), the cosine
        distance and a highlighted snippet. Same filters as :meth:`vector`.
        """
        filters = _Filters(filter, document_filter)
        vector, dims = await self.vector_for(embedding, model, "embedding")
        k = check_limit(k, 1000)
        query = filters.apply(for_dimensions(self.q.search_hybrid, dims))
        if isinstance(rrf_k, bool) or not isinstance(rrf_k, int) or not 0 <= rrf_k <= 100_000:
            raise ValidationError("rrf_k must be an integer between 0 and 100000")
        params: dict[str, Any] = dict(
            **filters.params,
            tenant_id=self.t,
            q=check_query(text),
            config=check_config(config),
            embedding=vector,
            model=model,
            k=k,
            candidates=max(4 * k, 50)
            if candidates is None
            else check_limit(candidates, 10_000, "candidates"),
            rrf_k=rrf_k,
            text_weight=_weight(text_weight, "text_weight"),
            vector_weight=_weight(vector_weight, "vector_weight"),
            **_filters(document_ids, conversation_id, document_metadata, source),
        )
        (hits,) = await self.search_pipeline(
            [(query, HybridHit, params)], ef_search=ef_search, max_scan_tuples=max_scan_tuples
        )
        return hits

    async def vector_quantized(
        self,
        embedding: VectorLike,
        k: int = 10,
        *,
        model: str,
        candidates: int | None = None,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> list[VectorHit]:
        """Like :meth:`vector` (no filters) through the binary-quantized index of a
        3,072-dimensional model (migration 0021): the ``candidates`` nearest by Hamming
        distance between sign bits (default ``max(10 * k, 100)``), re-ranked by the exact
        cosine distance. Faster on large tables, at some recall: more ``candidates``
        buys it back.
        """
        vector, dims = await self.vector_for(embedding, model, "embedding")
        if dims != QUANTIZED_DIMENSIONS:
            raise ValidationError(
                f"quantized search has an index for {QUANTIZED_DIMENSIONS} dimensions only, "
                f"not {dims}: use s.search.vector"
            )
        k = check_limit(k, 1000)
        wanted = check_limit(candidates or max(10 * k, 100), 1000)
        params = dict(tenant_id=self.t, embedding=vector, model=model, k=k, candidates=wanted)
        (hits,) = await self.search_pipeline(
            [(self.q.search_vector_quantized, VectorHit, params)],
            ef_search=max(check_limit(ef_search, 1000), wanted),
            max_scan_tuples=DEFAULT_MAX_SCAN_TUPLES,
        )
        return hits
