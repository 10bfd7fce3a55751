"""Input validation shared by every area, the store and the operations.

Each check raises :class:`pgrecall.ValidationError` (or :class:`TenantMissingError` for
the tenant) naming the parameter, before any SQL is sent, and returns the value it
accepted, so a call site reads ``tenant_id=self.t, title=check_text(title, "title")``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from psycopg.types.json import Jsonb

from ..errors import TenantMissingError, ValidationError

T = TypeVar("T")

__all__ = [
    "MAX_INT",
    "MAX_JSON_DEPTH",
    "MAX_JSON_INT_DIGITS",
    "MAX_TENANT_LEN",
    "NORM_SQ_MAX",
    "NORM_SQ_MIN",
    "as_uuid",
    "check_after",
    "check_aware",
    "check_bool",
    "check_choice",
    "check_count",
    "check_json",
    "check_key",
    "check_limit",
    "check_norm",
    "check_number",
    "check_object",
    "check_seq",
    "check_tenant",
    "check_text",
    "jsonb",
    "opt_bool",
    "opt_key",
    "opt_text",
    "opt_uuid",
    "show",
]


def show(value: object, limit: int = 60) -> str:
    """``repr`` for an error message: short, and safe for any value (the repr of an int
    of more than 4300 digits raises)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an integer of {value.bit_length()} bits>"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def check_number(
    value: float, what: str, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A finite number (not a bool) within the bounds given, as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{what} must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise ValidationError(f"{what} is too large: {show(value)}") from None
    if (
        not math.isfinite(number)
        or (minimum is not None and number < minimum)
        or (maximum is not None and number > maximum)
    ):
        low = "" if minimum is None else f" >= {minimum}"
        high = "" if maximum is None else f" <= {maximum}"
        raise ValidationError(f"{what} must be a finite number{low}{high}, not {show(value)}")
    return number


def check_seq(value: Any, what: str) -> list[Any]:
    """A list, tuple, set or other iterable of items (not text, bytes or a dict), as a list."""
    if isinstance(value, (str, bytes, bytearray, dict)) or not isinstance(value, Iterable):
        raise ValidationError(f"{what} must be a list, not {type(value).__name__}")
    return list(value)


def check_bool(value: Any, what: str) -> bool:
    """``True`` or ``False`` (not a truthy string or number)."""
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be True or False, not {show(value)}")
    return value


def opt_bool(value: Any, what: str) -> bool | None:
    return None if value is None else check_bool(value, what)


def check_choice(value: Any, allowed: AbstractSet[str], what: str) -> str:
    """One of ``allowed`` (text)."""
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"{what} must be one of {sorted(allowed)}, not {show(value)}")
    return value


def check_after(value: T | None, cls: type[T], what: str = "after") -> T | None:
    """A keyset-paging cursor: ``None`` or the last row (``cls``) of the previous page."""
    if value is not None and not isinstance(value, cls):
        raise ValidationError(
            f"{what} must be a {cls.__name__} (the last row of the previous page), "
            f"not {type(value).__name__}"
        )
    return value


def check_text(value: str, what: str, *, max_len: int | None = None) -> str:
    """Reject text PostgreSQL cannot store (NUL) or that is not valid UTF-8."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, not {type(value).__name__}")
    if "\x00" in value:
        raise ValidationError(f"{what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{what} is not valid UTF-8 (lone surrogate?)") from None
    if max_len is not None and len(value) > max_len:
        raise ValidationError(f"{what} is longer than {max_len} characters")
    return value


def check_key(value: str, what: str, *, max_len: int = 200) -> str:
    """An identifier the application chose (user id, request id, kind...): text that is
    not empty or only whitespace, at most ``max_len`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} must be non-empty text (not only whitespace)")
    return check_text(value, what, max_len=max_len)


def opt_key(value: str | None, what: str, *, max_len: int = 200) -> str | None:
    return None if value is None else check_key(value, what, max_len=max_len)


MAX_JSON_DEPTH = 64
# json.dumps refuses an int of more than 4300 digits (sys.get_int_max_str_digits)
MAX_JSON_INT_DIGITS = 4300
_JSON_INT_LIMIT = 10**MAX_JSON_INT_DIGITS


def check_json(value: Any, what: str, *, _depth: int = 0) -> Any:
    """Reject what jsonb cannot hold: NUL in strings or keys, NaN / infinity, deep nesting."""
    if _depth > MAX_JSON_DEPTH:
        raise ValidationError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"{what} contains a NUL character (jsonb cannot store it)")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{what} is not valid UTF-8 (lone surrogate?)") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{what} contains {value} (not valid JSON)")
    elif isinstance(value, int) and not -_JSON_INT_LIMIT < value < _JSON_INT_LIMIT:
        raise ValidationError(f"{what} holds an integer of more than {MAX_JSON_INT_DIGITS} digits")
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"{what} has a non-text key {k!r}")
            check_json(k, what, _depth=_depth + 1)
            check_json(v, what, _depth=_depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            check_json(v, what, _depth=_depth + 1)
    elif value is not None and not isinstance(value, (bool, int, float)):
        raise ValidationError(f"{what} holds a {type(value).__name__}, not JSON")
    return value


def check_object(value: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """A JSON object (dict), validated; ``None`` becomes ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a JSON object (dict), not {type(value).__name__}")
    check_json(value, what)
    return value


def as_uuid(value: UUID | str, what: str = "id") -> UUID:
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a UUID, not {type(value).__name__}")
    try:
        return UUID(value)
    except ValueError:
        raise ValidationError(f"{what} is not a UUID: {value[:100]!r}") from None


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


def check_limit(limit: int, maximum: int = 10_000, what: str = "limit") -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ValidationError(f"{what} must be an integer between 1 and {maximum}")
    return limit


MAX_TENANT_LEN = 200


def check_tenant(tenant: str | None) -> str:
    """A tenant id is non-empty text without NUL, at most 200 characters."""
    if tenant is None or not isinstance(tenant, str) or not tenant.strip():
        raise TenantMissingError("a tenant id is required (non-empty text)")
    return check_text(tenant, "tenant id", max_len=MAX_TENANT_LEN)


# The squared norm of a vector must stay well inside float32 (pgvector computes the
# norms and dot products of cosine distance in float32): below 2**-120 it underflows
# (distance NaN or 0), above 2**120 it overflows. |v| between ~1e-18 and ~1e18.
NORM_SQ_MIN = 2.0**-120
NORM_SQ_MAX = 2.0**120


def check_norm(squared: float, what: str) -> None:
    """Refuse a vector whose squared norm (computed in float64) cosine distance cannot use."""
    if squared == 0.0:
        raise ValidationError(f"{what} is the zero vector (no direction for cosine distance)")
    if not NORM_SQ_MIN <= squared <= NORM_SQ_MAX:
        raise ValidationError(
            f"{what} has norm {math.sqrt(squared):.3g}, outside 2**-60 .. 2**60: too small or "
            "too large for float32 cosine distance (normalize it)"
        )
