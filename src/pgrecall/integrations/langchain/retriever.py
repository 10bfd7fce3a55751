"""``PgRecallRetriever``: a retriever over :class:`PgRecallVectorStore`, hybrid by default."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStoreRetriever

from .vectorstore import PgRecallVectorStore

__all__ = ["PgRecallRetriever"]


class PgRecallRetriever(VectorStoreRetriever):
    """Retrieves ``k`` documents for a query.

    ``search_type``: ``"hybrid"`` (default: keyword and vector search fused by
    reciprocal rank, in one SQL statement), ``"similarity"``, ``"mmr"`` or
    ``"similarity_score_threshold"``. ``filter``: metadata that must match. ``k`` and
    ``filter`` may also be given per call: ``retriever.invoke(q, k=3)``.
    """

    vectorstore: PgRecallVectorStore
    search_type: str = "hybrid"
    k: int = 4
    filter: dict[str, Any] | None = None
    allowed_search_types: ClassVar[Collection[str]] = (
        "hybrid",
        "similarity",
        "similarity_score_threshold",
        "mmr",
    )

    def _kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"k": self.k, "filter": self.filter, **self.search_kwargs, **kwargs}

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        kwargs_ = self._kwargs(kwargs)
        if self.search_type == "hybrid":
            return self.vectorstore.hybrid_search(query, **kwargs_)
        return super()._get_relevant_documents(query, run_manager=run_manager, **kwargs_)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        kwargs_ = self._kwargs(kwargs)
        if self.search_type == "hybrid":
            return await self.vectorstore.ahybrid_search(query, **kwargs_)
        return await super()._aget_relevant_documents(
            query, run_manager=run_manager, **kwargs_
        )
