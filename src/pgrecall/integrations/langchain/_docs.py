"""LangChain documents <-> pgrecall chunks: ids, rows, relevance, MMR selection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from pgrecall.errors import ValidationError

__all__ = ["ID_KEY", "MAX_K", "check_k", "document", "mmr", "relevance", "row_id"]

ID_KEY = "lc_id"
_NAMESPACE = uuid.UUID("6c1f2a4e-8d0b-5e7a-9c3d-2b4f6a8e0c1d")
MAX_K = 1000


def row_id(model: str, id: str) -> uuid.UUID:
    """The ``pgrecall.embeddings`` id of LangChain id ``id`` in ``model``."""
    return uuid.uuid5(_NAMESPACE, f"{model}\n{id}")


def document(content: str, source: dict[str, Any], fallback_id: uuid.UUID) -> Document:
    metadata = dict(source)
    lc_id = metadata.pop(ID_KEY, None)
    return Document(
        id=lc_id if isinstance(lc_id, str) else str(fallback_id),
        page_content=content,
        metadata=metadata,
    )


def check_k(k: int, what: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationError(f"{what} must be an integer between 1 and {MAX_K}")
    return k


def relevance(distance: float) -> float:
    return min(1.0, max(0.0, 1.0 - distance / 2.0))


def mmr(
    query: Sequence[float], found: Sequence[tuple[Any, list[float]]], k: int, lambda_mult: float
) -> list[Document]:
    if not found:
        return []
    picked = maximal_marginal_relevance(
        np.array(query, dtype=np.float32),
        [vector for _, vector in found],
        lambda_mult=lambda_mult,
        k=k,
    )
    return [document(found[i][0].content, found[i][0].source, found[i][0].id) for i in picked]
