"""LlamaIndex ``MetadataFilters`` in pgrecall's filter language (:mod:`pgrecall.query.filters`).

Every ``FilterOperator`` and ``FilterCondition`` maps onto it, with the semantics of
LlamaIndex's own in-memory store where it defines them: ``!=`` and ``nin`` match a missing
field; ``contains`` / ``any`` / ``all`` test the elements of an array field;
``text_match`` is a substring (``LIKE '%v%'``, ``_`` and ``%`` in ``v`` taken literally),
``text_match_insensitive`` the same with ``ILIKE``; ``is_empty`` matches a missing field,
null, ``""`` or ``[]``; the ``not`` condition matches when none of its filters match.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from ...errors import ValidationError

__all__ = ["to_filter"]

_SIMPLE = {
    FilterOperator.EQ: "$eq",
    FilterOperator.NE: "$ne",
    FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt",
    FilterOperator.LTE: "$lte",
    FilterOperator.CONTAINS: "$contains",
}


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _values(f: MetadataFilter) -> list[Any]:
    return list(f.value) if isinstance(f.value, list) else [f.value]


def _one(f: MetadataFilter) -> dict[str, Any]:
    key, op, value = f.key, f.operator, f.value
    if op in _SIMPLE:
        if isinstance(value, list):
            raise ValidationError(f"filter on {key!r}: {op.value} takes one value, not a list")
        return {key: {_SIMPLE[op]: value}}
    if op in (FilterOperator.IN, FilterOperator.NIN):
        return {key: {"$in" if op is FilterOperator.IN else "$nin": _values(f)}}
    if op is FilterOperator.ALL:
        if not _values(f):  # all() of nothing: any present, non-null value
            return {key: {"$exists": True, "$ne": None}}
        return {key: {"$contains": _values(f)}}
    if op is FilterOperator.ANY:
        return {"$or": [{key: {"$contains": v}} for v in _values(f)]} if _values(f) else _never(key)
    if op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE):
        if not isinstance(value, str):
            raise ValidationError(f"filter on {key!r}: {op.value} takes text")
        like = "$like" if op is FilterOperator.TEXT_MATCH else "$ilike"
        return {key: {like: f"%{_like_literal(value)}%"}}
    if op is FilterOperator.IS_EMPTY:
        empty: list[Any] = [{key: {"$exists": False}}, {key: None}, {key: ""}, {key: {"$size": 0}}]
        return {"$or": empty}
    raise ValidationError(f"filter on {key!r}: unsupported operator {op!r}")


def _never(key: str) -> dict[str, Any]:
    return {key: {"$in": []}}


def to_filter(filters: MetadataFilters | None) -> dict[str, Any]:
    """``filters`` as a pgrecall filter dict (``{}`` = everything)."""
    if filters is None or not filters.filters:
        return {}
    parts = [to_filter(f) if isinstance(f, MetadataFilters) else _one(f) for f in filters.filters]
    condition = filters.condition or FilterCondition.AND
    if condition is FilterCondition.AND:
        return parts[0] if len(parts) == 1 else {"$and": parts}
    if condition is FilterCondition.OR:
        return {"$or": parts}
    if condition is FilterCondition.NOT:
        return {"$not": {"$or": parts}}
    raise ValidationError(f"unsupported filter condition {condition!r}")
