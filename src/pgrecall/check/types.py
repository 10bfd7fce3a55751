"""PostgreSQL types as psycopg returns them, and whether a Python annotation accepts them.

Built-in types are known by name in ``pg_catalog``; extension types (``vector``,
``halfvec``, ``sparsevec``, ``citext``) are resolved by name too, since their OIDs
differ from one database to the next. Domains resolve to their base type, arrays
to ``list`` of their element type, enums to ``str``.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import types
import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal
from uuid import UUID

import psycopg
from pydantic import BaseModel

__all__ = ["PgType", "Verdict", "accepts", "describe", "load_types", "split_optional"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Verdict(enum.Enum):
    OK = "ok"
    MISMATCH = "mismatch"
    UNKNOWN = "unknown"


class _Json:
    """Marker: a ``json``/``jsonb`` value (psycopg returns dict, list or a scalar)."""


_SCALARS: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int2": (int,),
    "int4": (int,),
    "int8": (int,),
    "oid": (int,),
    "float4": (float,),
    "float8": (float,),
    "numeric": (Decimal,),
    "bytea": (bytes,),
    "uuid": (UUID,),
    "date": (date,),
    "time": (time,),
    "timetz": (time,),
    "timestamp": (datetime,),
    "timestamptz": (datetime,),
    "interval": (timedelta,),
    "json": (_Json,),
    "jsonb": (_Json,),
    "inet": (ipaddress.IPv4Interface, ipaddress.IPv6Interface),
    "cidr": (ipaddress.IPv4Network, ipaddress.IPv6Network),
}
_TEXT_LIKE = _words(
    "text varchar bpchar name char citext unknown xml tsvector tsquery macaddr macaddr8 "
    "money bit varbit regclass regtype regproc"
)


def _vector_types() -> dict[str, tuple[type, ...]]:
    """What pgvector's psycopg loaders (registered by the pool) return."""
    import numpy
    from pgvector import HalfVector, SparseVector

    return {"vector": (numpy.ndarray,), "halfvec": (HalfVector,), "sparsevec": (SparseVector,)}


@dataclass(frozen=True, slots=True)
class PgType:
    """A result or parameter type: its display name and what psycopg makes of it."""

    oid: int
    name: str  # format_type(), e.g. "timestamp with time zone", "text[]"
    base: str  # typname after domains, e.g. "timestamptz", "vector", "_text"
    kind: str  # pg_type.typtype: b base, e enum, c composite, r range, m multirange, p pseudo
    element: PgType | None = None

    @property
    def python(self) -> tuple[type, ...]:
        """The classes psycopg returns for this type (empty when unknown)."""
        if self.element is not None:
            return (list,)
        if self.kind == "e" or self.base in _TEXT_LIKE:
            return (str,)
        if self.kind in ("r", "m"):
            from psycopg.types.multirange import Multirange
            from psycopg.types.range import Range

            return (Range,) if self.kind == "r" else (Multirange,)
        found = _SCALARS.get(self.base) or _vector_types().get(self.base)
        return found or ()

    @property
    def python_name(self) -> str:
        if self.element is not None:
            return f"list[{self.element.python_name}]"
        names = [_JSON_NAME if t is _Json else t.__name__ for t in self.python]
        return " | ".join(names) or "?"


_JSON_NAME = "dict | list"

_TYPES_SQL = """
SELECT t.oid::int8, format_type(t.oid, NULL), coalesce(b.typname, t.typname)::text,
       coalesce(b.typtype, t.typtype)::text, coalesce(b.typelem, t.typelem)::int8,
       coalesce(b.typcategory, t.typcategory)::text
FROM pg_type t
LEFT JOIN pg_type b ON b.oid = t.typbasetype AND t.typtype = 'd'
WHERE t.oid = ANY(%s)
"""


def load_types(conn: psycopg.Connection[Any], oids: Iterable[int]) -> dict[int, PgType]:
    """:class:`PgType` of each OID (and of array element types), from ``pg_type``."""
    rows: dict[int, tuple[str, str, str, int, str]] = {}
    wanted = {o for o in oids if o}
    while wanted - rows.keys():
        with conn.cursor() as cur:
            cur.execute(_TYPES_SQL, (sorted(wanted - rows.keys()),))
            fetched = cur.fetchall()
        if not fetched:
            break
        for oid, name, base, kind, elem, category in fetched:
            rows[oid] = (name, base, kind, elem if category == "A" else 0, category)
            if category == "A" and elem:
                wanted.add(elem)
    found: dict[int, PgType] = {}

    def build(oid: int) -> PgType:
        if oid not in found:
            name, base, kind, elem, _ = rows[oid]
            element = build(elem) if elem and elem in rows else None
            found[oid] = PgType(oid, name, base, kind, element)
        return found[oid]

    for oid in rows:
        build(oid)
    return found


def split_optional(annotation: Any) -> tuple[Any, bool]:
    """``(T, True)`` for ``T | None`` / ``Optional[T]``; ``(annotation, False)`` otherwise."""
    annotation = _strip(annotation)
    if _is_union(annotation):
        args = typing.get_args(annotation)
        rest = tuple(a for a in args if a is not type(None))
        if len(rest) < len(args):
            inner = rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007
            return _strip(inner), True
    if annotation is None or annotation is type(None):
        return annotation, True
    return annotation, annotation is Any or annotation is object


def _strip(annotation: Any) -> Any:
    """Remove ``Annotated``, ``NewType`` and ``type X = ...`` wrappers."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif hasattr(annotation, "__supertype__"):
            annotation = annotation.__supertype__
        elif type(annotation).__name__ == "TypeAliasType":
            annotation = annotation.__value__
        else:
            return annotation


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def describe(annotation: Any) -> str:
    """A short readable name for an annotation (``str | None``, ``list[int]``)."""
    if annotation is None or annotation is type(None):
        return "None"
    if _is_union(annotation):
        return " | ".join(describe(a) for a in typing.get_args(annotation))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None and args:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join('...' if a is Ellipsis else describe(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def accepts(annotation: Any, pg: PgType) -> Verdict:
    """Whether a field annotated ``annotation`` accepts what psycopg returns for ``pg``."""
    annotation = _strip(annotation)
    if annotation is Any or annotation is object:
        return Verdict.OK
    if _is_union(annotation):
        return _any_of(accepts(a, pg) for a in typing.get_args(annotation) if a is not type(None))
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return _values_fit(typing.get_args(annotation), pg)
    if origin is not None:
        return _generic(origin, typing.get_args(annotation), pg)
    if isinstance(annotation, type):
        return _class(annotation, pg)
    return Verdict.UNKNOWN


def _any_of(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    if Verdict.OK in seen:
        return Verdict.OK
    return Verdict.UNKNOWN if Verdict.UNKNOWN in seen or not seen else Verdict.MISMATCH


def _values_fit(values: Iterable[Any], pg: PgType) -> Verdict:
    """Literal / Enum values: the column type must produce values of their type."""
    wanted = pg.python
    if not wanted:
        return Verdict.UNKNOWN
    fits = all(v is None or _value_fits(v, wanted) for v in values)
    return Verdict.OK if fits else Verdict.MISMATCH


def _value_fits(value: Any, wanted: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # a bool is an int too, but only a boolean column fits it
        return bool in wanted
    return isinstance(value, wanted)


_SEQUENCES = (list, tuple, set, frozenset, Sequence, AbstractSet, Collection, Iterable)


def _generic(origin: Any, args: tuple[Any, ...], pg: PgType) -> Verdict:
    json = _Json in pg.python
    if origin in _SEQUENCES:
        if json:
            return Verdict.OK
        if pg.element is not None:
            return accepts(args[0], pg.element) if args else Verdict.OK
        if pg.base == "vector" and origin is list:
            return Verdict.OK  # pydantic builds a list from pgvector's numpy array
        return Verdict.MISMATCH if pg.python else Verdict.UNKNOWN
    if origin in (dict, Mapping):
        return Verdict.OK if json else _known(pg)
    return Verdict.UNKNOWN


def _known(pg: PgType) -> Verdict:
    return Verdict.MISMATCH if pg.python else Verdict.UNKNOWN


_WIDENS: dict[type, tuple[type, ...]] = {
    int: (float, Decimal),
    Decimal: (float,),
    float: (Decimal,),
}


def _class(cls: type, pg: PgType) -> Verdict:
    wanted = pg.python
    if not wanted:
        return Verdict.UNKNOWN
    if issubclass(cls, Enum):
        return _values_fit([m.value for m in cls], pg)
    if _Json in wanted:
        return _json_class(cls)
    if any(issubclass(w, cls) for w in wanted):
        return Verdict.OK
    if any(cls in _WIDENS.get(w, ()) for w in wanted):
        return Verdict.OK
    if cls is list and pg.base == "vector":
        return Verdict.OK
    if hasattr(cls, "__get_pydantic_core_schema__") and not issubclass(cls, BaseModel):
        return Verdict.UNKNOWN  # a custom pydantic type decides for itself
    return Verdict.MISMATCH


def _json_class(cls: type) -> Verdict:
    if cls in (dict, list) or issubclass(cls, BaseModel) or typing.is_typeddict(cls):
        return Verdict.OK
    if dataclasses.is_dataclass(cls):
        return Verdict.OK
    if cls in (str, int, float, bool):
        return Verdict.UNKNOWN  # a JSON scalar: legal, but rarely what was meant
    return Verdict.MISMATCH
