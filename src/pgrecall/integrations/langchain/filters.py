"""LangChain ``filter`` arguments to pgrecall search arguments.

LangChain's metadata filters (as in langchain-postgres) are pgrecall's filter language
(:mod:`pgrecall.query.filters`), applied to the chunk's ``source``, where the adapter
keeps a document's metadata: ``{"genre": "sf"}``, ``{"year": {"$gte": 2020}}``,
``{"$or": [{"a": 1}, {"b": {"$in": [2, 3]}}]}``; every key is validated and every value
bound. Equality, ``$in`` and ``$contains`` are served by the GIN index on ``source``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgrecall.errors import ValidationError

__all__ = ["search_filter"]


def search_filter(filter: Any) -> dict[str, Any]:
    """The keyword arguments of ``s.search.vector`` / ``hybrid`` for ``filter``."""
    if filter is None:
        return {}
    if not isinstance(filter, Mapping):
        raise ValidationError(f"filter must be a dict, not {type(filter).__name__}")
    return {"filter": dict(filter)}
