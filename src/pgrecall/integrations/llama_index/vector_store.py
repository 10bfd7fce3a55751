"""``PgRecallVectorStore``: a LlamaIndex vector store on pgrecall's embeddings.

A node is a chunk (``pgrecall.embeddings``): its text is the chunk's content, its vector
the chunk's embedding, and its metadata (with LlamaIndex's own keys: ``_node_content``,
``_node_type``, ``ref_doc_id`` ...) the chunk's ``source``, so metadata filters run in SQL
(:mod:`pgrecall.query.filters`, GIN index ``embeddings_source_idx``). The nodes of one
``ref_doc_id`` belong to one pgrecall document (``metadata.llama_index_ref_doc_id``):
``delete(ref_doc_id)`` deletes the document and its chunks with it (two concurrent first
adds of one ``ref_doc_id`` may create two documents: ``delete`` removes every one, and
queries do not see the difference). Node ids that are not UUIDs are mapped to stable UUIDs
(v5); adding a node id again replaces the node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
from llama_index.core.schema import BaseNode, MetadataMode, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from ...errors import NotFoundError, ValidationError
from ...models import Embedding
from ...session import Session
from ...session_async import AsyncSession
from ...store import Store
from ...store_async import AsyncStore
from ._backend import Backend
from .filters import to_filter

__all__ = ["PgRecallVectorStore", "node_uuid"]

_NAMESPACE = uuid5(NAMESPACE_URL, "pgrecall:llama_index:node")
REF_KEY = "llama_index_ref_doc_id"
NODE_ID_KEY = "_node_id"
MAX_PREFETCH = 1000  # candidates of an MMR query (s.search.vector's k limit)
TEXT_MODES = (VectorStoreQueryMode.TEXT_SEARCH, VectorStoreQueryMode.SPARSE)
HYBRID_MODES = (VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.SEMANTIC_HYBRID)


def node_uuid(node_id: str) -> UUID:
    """The chunk id of a node id: the id itself when it is a UUID, else a UUID v5 of it."""
    try:
        return UUID(node_id)
    except ValueError:
        return uuid5(_NAMESPACE, node_id)


class _Batch:
    """The rows of one ``add``, grouped by ``ref_doc_id``."""

    def __init__(self, nodes: Sequence[BaseNode]) -> None:
        self.ids: list[str] = []
        self.groups: dict[str | None, dict[str, list[Any]]] = {}
        self.dims = 0
        for node in nodes:
            vector = node.get_embedding()
            if self.dims and len(vector) != self.dims:
                raise ValidationError("nodes of one add must have embeddings of one dimension")
            self.dims = len(vector)
            meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
            meta[NODE_ID_KEY] = node.node_id
            group = self.groups.setdefault(
                node.ref_doc_id, {"texts": [], "vectors": [], "sources": [], "ids": []}
            )
            group["texts"].append(node.get_content(metadata_mode=MetadataMode.NONE))
            group["vectors"].append(vector)
            group["sources"].append(meta)
            group["ids"].append(node_uuid(node.node_id))
            self.ids.append(node.node_id)


def _to_node(chunk: Any) -> BaseNode:
    source: dict[str, Any] = chunk.source
    if "_node_content" in source:
        return metadata_dict_to_node(source, text=chunk.content)
    return TextNode(id_=str(chunk.id), text=chunk.content, metadata=source)


class _Search:
    """A validated ``VectorStoreQuery``: the pgrecall call it becomes, and its results."""

    def __init__(self, query: VectorStoreQuery, model: str, kwargs: dict[str, Any]) -> None:
        self.mode = query.mode
        self.k = query.similarity_top_k
        self.query = query
        parts = [to_filter(query.filters)] if query.filters else []
        # an empty list means "not given" (VectorIndexRetriever passes node_ids=[])
        if query.doc_ids:
            parts.append({"ref_doc_id": {"$in": list(query.doc_ids)}})
        if query.node_ids:
            parts.append({NODE_ID_KEY: {"$in": list(query.node_ids)}})
        flt: dict[str, Any] = parts[0] if len(parts) == 1 else {"$and": parts} if parts else {}
        self.args: dict[str, Any] = {"model": model, "filter": flt}
        self.mmr_threshold = query.mmr_threshold or kwargs.get("mmr_threshold")
        self.prefetch = min(self.k * int(kwargs.get("mmr_prefetch_factor", 4)), MAX_PREFETCH)
        if (self.mode in TEXT_MODES or self.mode in HYBRID_MODES) and not query.query_str:
            raise ValidationError(f"query mode {self.mode.value} needs query_str")
        if self.mode not in TEXT_MODES and query.query_embedding is None:
            raise ValidationError(f"query mode {self.mode.value} needs query_embedding")
        supported = (VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.MMR)
        if self.mode not in (*TEXT_MODES, *HYBRID_MODES, *supported):
            raise ValidationError(f"query mode {self.mode.value} is not supported")
        if self.mode in HYBRID_MODES:
            self.k = query.hybrid_top_k or self.k
            if query.alpha is not None:
                self.args.update(vector_weight=query.alpha, text_weight=1 - query.alpha)
            if query.sparse_top_k:
                self.args["candidates"] = max(query.sparse_top_k, self.k)

    def result(self, hits: Sequence[Any], score: str) -> VectorStoreQueryResult:
        nodes = [_to_node(h) for h in hits]
        return VectorStoreQueryResult(
            nodes=nodes,
            similarities=[float(getattr(h, score)) for h in hits],
            ids=[n.node_id for n in nodes],
        )

    def mmr(self, hits: Sequence[Any], chunks: Sequence[Embedding]) -> VectorStoreQueryResult:
        vectors = {c.id: list(c.embedding) for c in chunks}
        assert self.query.query_embedding is not None
        scores, ids = get_top_k_mmr_embeddings(
            self.query.query_embedding,
            [vectors[h.id] for h in hits],
            similarity_top_k=self.k,
            embedding_ids=[h.id for h in hits],
            mmr_threshold=self.mmr_threshold,
        )
        by_id = {h.id: h for h in hits}
        nodes = [_to_node(by_id[i]) for i in ids]
        return VectorStoreQueryResult(
            nodes=nodes, similarities=list(scores), ids=[n.node_id for n in nodes]
        )

    def run(self, s: Session) -> VectorStoreQueryResult:
        q = self.query
        if self.mode in TEXT_MODES:
            assert q.query_str is not None
            return self.result(s.search.chunks(q.query_str, self.k, **self.args), "rank")
        assert q.query_embedding is not None
        if self.mode in HYBRID_MODES:
            assert q.query_str is not None
            fused = s.search.hybrid(q.query_str, q.query_embedding, self.k, **self.args)
            return self.result(fused, "score")
        if self.mode is VectorStoreQueryMode.MMR:
            hits = s.search.vector(q.query_embedding, self.prefetch, **self.args)
            return self.mmr(hits, [s.embeddings.get(h.id) for h in hits])
        return self.result(s.search.vector(q.query_embedding, self.k, **self.args), "similarity")

    async def arun(self, s: AsyncSession) -> VectorStoreQueryResult:
        q = self.query
        if self.mode in TEXT_MODES:
            assert q.query_str is not None
            return self.result(await s.search.chunks(q.query_str, self.k, **self.args), "rank")
        assert q.query_embedding is not None
        if self.mode in HYBRID_MODES:
            assert q.query_str is not None
            hits = await s.search.hybrid(q.query_str, q.query_embedding, self.k, **self.args)
            return self.result(hits, "score")
        if self.mode is VectorStoreQueryMode.MMR:
            found = await s.search.vector(q.query_embedding, self.prefetch, **self.args)
            return self.mmr(found, [await s.embeddings.get(h.id) for h in found])
        hits2 = await s.search.vector(q.query_embedding, self.k, **self.args)
        return self.result(hits2, "similarity")


class PgRecallVectorStore(BasePydanticVectorStore):
    """LlamaIndex vector store on pgrecall (one tenant, one embedding model).

    ``PgRecallVectorStore(store, tenant="acme", model="all-MiniLM-L6-v2")`` with a
    :class:`pgrecall.Store` (sync and async methods) or :class:`pgrecall.AsyncStore`
    (async methods: ``async_add``, ``aquery``, ``adelete`` ...). The model is declared
    on the first ``add`` with the dimension of the nodes' embeddings. Query modes:
    ``default`` (cosine, iterative HNSW scan: a filtered query returns ``k`` nodes when
    ``k`` match), ``text_search`` / ``sparse`` (full-text, ``ts_rank``), ``hybrid``
    (reciprocal rank fusion in SQL; ``alpha`` weights the vector side), ``mmr``.
    """

    stores_text: bool = True
    flat_metadata: bool = False
    tenant: str
    model: str
    _backend: Backend = PrivateAttr()
    _declared: bool = PrivateAttr(default=False)

    def __init__(self, store: Store | AsyncStore, *, tenant: str, model: str) -> None:
        super().__init__(stores_text=True, tenant=tenant, model=model)
        self._backend = Backend(store, tenant)

    @classmethod
    def class_name(cls) -> str:
        return "PgRecallVectorStore"

    @property
    def client(self) -> Store | AsyncStore:
        return self._backend.store

    # -- add ------------------------------------------------------------------------

    def _add(self, s: Session, batch: _Batch) -> None:
        if not self._declared:
            s.embeddings.declare_model(self.model, dimensions=batch.dims)
        for ref, g in batch.groups.items():
            doc = None if ref is None else self._document(s, ref)
            s.embeddings.add_many(
                g["texts"], g["vectors"], model=self.model, document_id=doc,
                sources=g["sources"], ids=g["ids"], upsert=True,
            )  # fmt: skip

    async def _aadd(self, s: AsyncSession, batch: _Batch) -> None:
        if not self._declared:
            await s.embeddings.declare_model(self.model, dimensions=batch.dims)
        for ref, g in batch.groups.items():
            doc = None if ref is None else await self._adocument(s, ref)
            await s.embeddings.add_many(
                g["texts"], g["vectors"], model=self.model, document_id=doc,
                sources=g["sources"], ids=g["ids"], upsert=True,
            )  # fmt: skip

    def _document(self, s: Session, ref: str) -> UUID:
        found = s.documents.list(metadata={REF_KEY: ref}, limit=1)
        if found:
            return found[0].id
        return s.documents.add(_filename(ref), source="llama_index", metadata={REF_KEY: ref}).id

    async def _adocument(self, s: AsyncSession, ref: str) -> UUID:
        found = await s.documents.list(metadata={REF_KEY: ref}, limit=1)
        if found:
            return found[0].id
        doc = await s.documents.add(_filename(ref), source="llama_index", metadata={REF_KEY: ref})
        return doc.id

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Store the nodes (with their embeddings); a node id stored already is replaced."""
        batch = _Batch(nodes)
        if batch.ids:
            self._backend.call(lambda s: self._add(s, batch))
            self._declared = True
        return batch.ids

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        batch = _Batch(nodes)
        if batch.ids:
            await self._backend.acall(lambda s: self._add(s, batch), lambda s: self._aadd(s, batch))
            self._declared = True
        return batch.ids

    # -- delete -----------------------------------------------------------------------

    @staticmethod
    def _delete(s: Session, ref: str) -> None:
        while docs := s.documents.list(metadata={REF_KEY: ref}, limit=100):
            for d in docs:
                s.documents.delete(d.id)

    @staticmethod
    async def _adelete(s: AsyncSession, ref: str) -> None:
        while docs := await s.documents.list(metadata={REF_KEY: ref}, limit=100):
            for d in docs:
                await s.documents.delete(d.id)

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every node of ``ref_doc_id`` (its pgrecall document and chunks)."""
        self._backend.call(lambda s: self._delete(s, ref_doc_id))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await self._backend.acall(
            lambda s: self._delete(s, ref_doc_id), lambda s: self._adelete(s, ref_doc_id)
        )

    def delete_nodes(
        self, node_ids: list[str] | None = None, filters: Any = None, **delete_kwargs: Any
    ) -> None:
        """Delete nodes by id (``filters`` are not supported here: query, then delete)."""
        if filters is not None:
            raise NotImplementedError("delete_nodes by filters: query the ids first")
        ids = [node_uuid(i) for i in node_ids or []]
        self._backend.call(lambda s: [s.embeddings.delete(i) for i in ids])

    async def adelete_nodes(
        self, node_ids: list[str] | None = None, filters: Any = None, **delete_kwargs: Any
    ) -> None:
        if filters is not None:
            raise NotImplementedError("delete_nodes by filters: query the ids first")
        ids = [node_uuid(i) for i in node_ids or []]

        async def run(s: AsyncSession) -> None:
            for i in ids:
                await s.embeddings.delete(i)

        await self._backend.acall(lambda s: [s.embeddings.delete(i) for i in ids], run)

    # -- get ------------------------------------------------------------------------

    def get_nodes(self, node_ids: list[str] | None = None, filters: Any = None) -> list[BaseNode]:
        """The stored nodes of ``node_ids`` (missing ids are skipped)."""
        if filters is not None or node_ids is None:
            raise NotImplementedError("get_nodes takes node_ids (use query for filters)")
        ids = [node_uuid(i) for i in node_ids]
        return [_to_node(c) for c in self._backend.call(lambda s: _get(s, ids))]

    # -- query ------------------------------------------------------------------------

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        search = _Search(query, self.model, kwargs)
        return self._backend.call(search.run)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        search = _Search(query, self.model, kwargs)
        return await self._backend.acall(search.run, search.arun)


def _get(s: Session, ids: list[UUID]) -> list[Embedding]:
    found = []
    for i in ids:
        try:
            found.append(s.embeddings.get(i))
        except NotFoundError:
            continue
    return found


def _filename(ref: str) -> str:
    return f"llama_index:{ref}"[:255]
