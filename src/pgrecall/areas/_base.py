# Generated from _base_async.py by tools/async_to_sync.py: do not edit.
"""What every area shares: the session's connection, tenant and queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from .._db import DB
from ..errors import ValidationError
from ..models import check_object
from ..queries import Queries, check_text

__all__ = [
    "MAX_INT",
    "Area",
    "as_uuid",
    "check_aware",
    "check_count",
    "check_limit",
    "jsonb",
    "opt_text",
    "opt_uuid",
]


class Area:
    """Base of an area: ``self.db`` runs queries, ``self.t`` is the tenant id."""

    def __init__(self, db: DB, tenant: str, queries: Queries) -> None:
        self.db = db
        self.t = tenant
        self.q = queries


def as_uuid(value: UUID | str, what: str = "id") -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise ValidationError(f"{what} is not a UUID: {value!r}") from None


MAX_INT = 2**31 - 1  # PostgreSQL integer


def opt_uuid(value: UUID | str | None, what: str) -> UUID | None:
    return None if value is None else as_uuid(value, what)


def check_count(value: int | None, what: str) -> int | None:
    """``None`` or an integer in ``0 .. 2**31 - 1``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise ValidationError(f"{what} must be an integer between 0 and {MAX_INT}")
    return value


def check_aware(value: datetime | None, what: str) -> datetime | None:
    """``None`` or a timezone-aware datetime."""
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValidationError(f"{what} must be a timezone-aware datetime")
    return value


def jsonb(value: dict[str, Any] | None, what: str) -> Jsonb:
    return Jsonb(check_object(value, what))


def opt_text(value: str | None, what: str, max_len: int = 10_000) -> str | None:
    return None if value is None else check_text(value, what, max_len=max_len)


def check_limit(limit: int, maximum: int = 10_000) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ValidationError(f"limit must be an integer between 1 and {maximum}")
    return limit
