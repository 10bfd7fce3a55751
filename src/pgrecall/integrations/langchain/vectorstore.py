"""``PgRecallVectorStore``: a LangChain ``VectorStore`` over pgrecall's embeddings.

One store object is one tenant and one embedding model: every LangChain document is
a row of ``pgrecall.embeddings`` of that model (``content`` = page content, ``source``
= metadata). LangChain ids are any strings: the row id is a UUID v5 of the model name
and the string (so adding an id again replaces that row), and the string itself is kept
in ``source`` under the reserved key ``lc_id``. Searches run pgrecall's own: cosine
vector search with iterative HNSW scans (a filtered search still returns ``k`` rows)
and the one-statement reciprocal-rank-fusion hybrid search (``search_type="hybrid"``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from pgrecall.errors import ValidationError

from . import _ops, _ops_async
from ._docs import ID_KEY, check_k, document, mmr, relevance, row_id
from ._run import AnyStore, Runner
from .filters import search_filter

if TYPE_CHECKING:
    from .retriever import PgRecallRetriever

__all__ = ["ID_KEY", "PgRecallVectorStore", "row_id"]


class PgRecallVectorStore(VectorStore):
    """Documents and their vectors in pgrecall, for one tenant and one embedding model.

    ``store`` is a :class:`pgrecall.Store` (sync methods native, async ones in an
    executor) or a :class:`pgrecall.AsyncStore` (async methods native, sync ones
    raise). The model is declared on first use with the embedding's dimension.
    ``filter`` (every search): pgrecall's metadata filter language on the documents'
    metadata, e.g. ``{"genre": "sf", "year": {"$gte": 2020}}``.
    """

    def __init__(
        self,
        store: AnyStore,
        *,
        tenant: str,
        embedding: Embeddings,
        model: str,
        ef_search: int = 100,
        max_scan_tuples: int = 20_000,
        text_config: Literal["english", "simple"] = "english",
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValidationError("model must be non-empty text")
        self._run = Runner(store, tenant)
        self._embedding = embedding
        self.model = model
        self.ef_search = ef_search
        self.max_scan_tuples = max_scan_tuples
        self.text_config = text_config
        self._declared: int | None = None  # dimension, once declared by this object

    @property
    def tenant(self) -> str:
        return self._run.tenant

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    # -- writes ------------------------------------------------------------------------

    def _rows(
        self,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any] | None] | None,
        ids: Sequence[str | None] | None,
    ) -> tuple[list[str], list[int], list[uuid.UUID], list[dict[str, Any]]]:
        """The LangChain ids (given or new) and, per distinct id, the last row for it."""
        n = len(texts)
        if metadatas is not None and len(metadatas) != n:
            raise ValidationError(f"{len(metadatas)} metadatas for {n} texts")
        if ids is not None and len(ids) != n:
            raise ValidationError(f"{len(ids)} ids for {n} texts")
        lc_ids: list[str] = []
        for i in range(n):
            given = None if ids is None else ids[i]
            if given is not None and (not isinstance(given, str) or not given):
                raise ValidationError(f"ids[{i}] must be non-empty text")
            lc_ids.append(given or str(uuid.uuid4()))
        last = {lc_id: i for i, lc_id in enumerate(lc_ids)}  # a repeated id: the last wins
        keep = sorted(last.values())
        sources: list[dict[str, Any]] = []
        for i in keep:
            meta = {} if metadatas is None else metadatas[i] or {}
            if not isinstance(meta, dict):
                raise ValidationError(f"metadatas[{i}] must be a dict")
            if ID_KEY in meta:
                raise ValidationError(f"metadata key {ID_KEY!r} is reserved (the document id)")
            sources.append({**meta, ID_KEY: lc_ids[i]})
        return lc_ids, keep, [row_id(self.model, lc_ids[i]) for i in keep], sources

    def _declare(self, vectors: Sequence[Sequence[float]]) -> int | None:
        """The dimension to declare the model with in this call (None: done before)."""
        return None if self._declared is not None or not vectors else len(vectors[0])

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and store ``texts``; an id that exists is replaced (upsert)."""
        texts = list(texts)
        lc_ids, keep, rows, sources = self._rows(texts, metadatas, ids)
        if not texts:
            return []
        vectors = self._embedding.embed_documents([texts[i] for i in keep])
        dims = self._declare(vectors)
        self._run.run(
            lambda s: _ops.upsert_rows(
                s, self.model, dims, rows, [texts[i] for i in keep], vectors, sources
            )
        )
        self._declared = len(vectors[0])
        return lc_ids

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        lc_ids, keep, rows, sources = self._rows(texts, metadatas, ids)
        if not texts:
            return []
        kept = [texts[i] for i in keep]
        vectors = await self._embedding.aembed_documents(kept)
        dims = self._declare(vectors)
        await self._run.arun(
            lambda s: _ops_async.upsert_rows(s, self.model, dims, rows, kept, vectors, sources),
            lambda s: _ops.upsert_rows(s, self.model, dims, rows, kept, vectors, sources),
        )
        self._declared = len(vectors[0])
        return lc_ids

    def _row_ids(self, ids: Sequence[str] | None) -> list[uuid.UUID]:
        if ids is None:
            raise ValidationError(
                "delete needs ids: pgrecall does not delete a whole model's rows through "
                "LangChain (use SQL or s.embeddings.delete_for_document)"
            )
        if isinstance(ids, str):
            raise ValidationError("ids must be a list of ids, not one string")
        return [row_id(self.model, i) for i in ids]

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete the documents with these ids (ids that do not exist are ignored)."""
        rows = self._row_ids(ids)
        self._run.run(lambda s: _ops.delete_rows(s, rows))
        return True

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        rows = self._row_ids(ids)
        await self._run.arun(
            lambda s: _ops_async.delete_rows(s, rows), lambda s: _ops.delete_rows(s, rows)
        )
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in that order; missing ids are left out."""
        rows = self._row_ids(ids)
        found = self._run.run(lambda s: _ops.get_rows(s, rows), read_only=True)
        return [document(r.content, r.source, r.id) for r in found]

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        rows = self._row_ids(ids)
        found = await self._run.arun(
            lambda s: _ops_async.get_rows(s, rows),
            lambda s: _ops.get_rows(s, rows),
            read_only=True,
        )
        return [document(r.content, r.source, r.id) for r in found]

    # -- vector search ------------------------------------------------------------------

    def _search(self, vector: Sequence[float], filter: Any) -> tuple[int | None, dict[str, Any]]:
        knobs = dict(ef_search=self.ef_search, max_scan_tuples=self.max_scan_tuples)
        return self._declare([vector]), {**search_filter(filter), **knobs}

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` nearest documents with their cosine distance (0 = same direction)."""
        dims, search = self._search(embedding, filter)
        k = check_k(k)
        hits = self._run.run(
            lambda s: _ops.nearest(s, embedding, k, self.model, dims, search),
            read_only=dims is None,
        )
        self._declared = len(embedding)
        return [(document(h.content, h.source, h.id), h.distance) for h in hits]

    async def asimilarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        dims, search = self._search(embedding, filter)
        k = check_k(k)
        hits = await self._run.arun(
            lambda s: _ops_async.nearest(s, embedding, k, self.model, dims, search),
            lambda s: _ops.nearest(s, embedding, k, self.model, dims, search),
            read_only=dims is None,
        )
        self._declared = len(embedding)
        return [(document(h.content, h.source, h.id), h.distance) for h in hits]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        found = self.similarity_search_with_score_by_vector(embedding, k, filter)
        return [doc for doc, _ in found]

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        found = await self.asimilarity_search_with_score_by_vector(embedding, k, filter)
        return [doc for doc, _ in found]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        vector = self._embedding.embed_query(query)
        return self.similarity_search_with_score_by_vector(vector, k, filter)

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        vector = await self._embedding.aembed_query(query)
        return await self.asimilarity_search_with_score_by_vector(vector, k, filter)

    def similarity_search(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter)]

    async def asimilarity_search(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        found = await self.asimilarity_search_with_score(query, k, filter)
        return [doc for doc, _ in found]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Cosine distance (0..2) to a relevance in 0..1 (1 = same direction)."""
        return relevance

    # -- maximal marginal relevance ---------------------------------------------------

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Any = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` of the ``fetch_k`` nearest documents, chosen for relevance and diversity."""
        dims, search = self._search(embedding, filter)
        fetch_k = check_k(max(fetch_k, k), "fetch_k")
        found = self._run.run(
            lambda s: _ops.nearest_with_vectors(s, embedding, fetch_k, self.model, dims, search),
            read_only=dims is None,
        )
        self._declared = len(embedding)
        return mmr(embedding, found, check_k(k), lambda_mult)

    async def amax_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Any = None,
        **kwargs: Any,
    ) -> list[Document]:
        dims, search = self._search(embedding, filter)
        fetch_k = check_k(max(fetch_k, k), "fetch_k")
        found = await self._run.arun(
            lambda s: _ops_async.nearest_with_vectors(
                s, embedding, fetch_k, self.model, dims, search
            ),
            lambda s: _ops.nearest_with_vectors(s, embedding, fetch_k, self.model, dims, search),
            read_only=dims is None,
        )
        self._declared = len(embedding)
        return mmr(embedding, found, check_k(k), lambda_mult)

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Any = None,
        **kwargs: Any,
    ) -> list[Document]:
        vector = self._embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, filter
        )

    async def amax_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Any = None,
        **kwargs: Any,
    ) -> list[Document]:
        vector = await self._embedding.aembed_query(query)
        return await self.amax_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, filter
        )

    # -- hybrid search ----------------------------------------------------------------

    def _hybrid(self, filter: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        allowed = {"rrf_k", "text_weight", "vector_weight", "candidates"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise ValidationError(f"unknown hybrid search argument(s): {sorted(unknown)}")
        knobs = dict(ef_search=self.ef_search, max_scan_tuples=self.max_scan_tuples)
        return {**search_filter(filter), **knobs, **kwargs, "config": self.text_config}

    def hybrid_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Keyword and vector search fused by reciprocal rank (pgrecall's RRF, one SQL
        statement); the score is the fused RRF score (higher is better). ``rrf_k``,
        ``text_weight``, ``vector_weight`` and ``candidates`` tune the fusion."""
        search = self._hybrid(filter, kwargs)
        vector = self._embedding.embed_query(query)
        dims = self._declare([vector])
        k = check_k(k)
        hits = self._run.run(
            lambda s: _ops.hybrid(s, query, vector, k, self.model, dims, search),
            read_only=dims is None,
        )
        self._declared = len(vector)
        return [(document(h.content, h.source, h.id), h.score) for h in hits]

    async def ahybrid_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        search = self._hybrid(filter, kwargs)
        vector = await self._embedding.aembed_query(query)
        dims = self._declare([vector])
        k = check_k(k)
        hits = await self._run.arun(
            lambda s: _ops_async.hybrid(s, query, vector, k, self.model, dims, search),
            lambda s: _ops.hybrid(s, query, vector, k, self.model, dims, search),
            read_only=dims is None,
        )
        self._declared = len(vector)
        return [(document(h.content, h.source, h.id), h.score) for h in hits]

    def hybrid_search(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.hybrid_search_with_score(query, k, filter, **kwargs)]

    async def ahybrid_search(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        found = await self.ahybrid_search_with_score(query, k, filter, **kwargs)
        return [doc for doc, _ in found]

    def search(self, query: str, search_type: str, **kwargs: Any) -> list[Document]:
        """LangChain's ``search``, plus ``search_type="hybrid"``."""
        if search_type == "hybrid":
            return self.hybrid_search(query, **kwargs)
        return super().search(query, search_type, **kwargs)

    async def asearch(self, query: str, search_type: str, **kwargs: Any) -> list[Document]:
        if search_type == "hybrid":
            return await self.ahybrid_search(query, **kwargs)
        return await super().asearch(query, search_type, **kwargs)

    def as_retriever(self, **kwargs: Any) -> PgRecallRetriever:
        """A :class:`PgRecallRetriever` (``search_type`` "hybrid" by default)."""
        from .retriever import PgRecallRetriever

        tags = kwargs.pop("tags", None) or [*self._get_retriever_tags()]
        return PgRecallRetriever(vectorstore=self, tags=tags, **kwargs)

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        store: AnyStore | None = None,
        tenant: str | None = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> PgRecallVectorStore:
        """A vector store of ``store`` / ``tenant`` / ``model`` with ``texts`` added."""
        if store is None or tenant is None or model is None:
            raise ValidationError("from_texts needs store=, tenant= and model=")
        vs = cls(store, tenant=tenant, embedding=embedding, model=model, **kwargs)
        vs.add_texts(texts, metadatas, ids=ids)
        return vs

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        store: AnyStore | None = None,
        tenant: str | None = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> PgRecallVectorStore:
        """:meth:`from_texts`, native on an AsyncStore."""
        if store is None or tenant is None or model is None:
            raise ValidationError("afrom_texts needs store=, tenant= and model=")
        vs = cls(store, tenant=tenant, embedding=embedding, model=model, **kwargs)
        await vs.aadd_texts(texts, metadatas, ids=ids)
        return vs
