"""Metadata filters: a small Mongo-like language over JSON metadata, compiled to SQL.

A filter is a dict. Each entry either names a field (a key of the JSON object, or a
dotted path ``"a.b"`` into nested objects) or is a logical operator::

    {"lang": "en", "year": {"$gte": 2020}, "$or": [{"draft": False}, {"owner": "ana"}]}

Entries of one dict, and operators of one field, are combined with AND. ``{}`` matches
everything. Field operators: ``$eq $ne $lt $lte $gt $gte $between $in $nin $exists
$like $ilike $contains $size`` and a field-level ``$not``; logical: ``$and $or $not``.

Type semantics (two-valued: every row either matches or does not, never an error):

- values are JSON scalars: strings, numbers (finite ``int`` / ``float``), booleans, ``None``
  (JSON null); ``$in`` / ``$nin`` / ``$between`` / ``$contains`` take lists of them;
- ``$eq`` is JSON equality: numbers by value (``1 == 1.0``), strings exactly, ``True`` is not
  ``1``, ``None`` matches a JSON null (not a missing field); a scalar never equals an array
  (use ``$contains``). It compiles to ``metadata @> '{"field": value}'``, served by the GIN
  ``jsonb_path_ops`` index; so are ``$in`` (one containment per value) and ``$contains``;
- ``$lt $lte $gt $gte $between`` compare numbers numerically and strings by Unicode code
  point (``COLLATE "C"``); a field of another JSON type, or missing, does not match;
- ``$ne`` / ``$nin`` are exactly ``$not`` of ``$eq`` / ``$in``: a missing field, or one of
  another type, matches (as in MongoDB and LlamaIndex);
- ``$exists: true`` matches a present field, even JSON null; ``$like`` / ``$ilike`` are SQL
  ``LIKE`` / ``ILIKE`` patterns (``%``, ``_``, ``\\`` escapes) on string fields only;
- ``$contains`` matches an array field holding the value (all the values, for a list);
  ``$size`` an array field of that length.

Keys are checked against :data:`KEY_PATTERN` and every key and value is a bound
parameter (path as ``text[]``, values as ``jsonb`` / ``text``): nothing from a filter is
ever part of the SQL text. A bad filter raises :class:`~pgrecall.errors.ValidationError`
naming the problem, before any SQL is sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import count
from typing import Any, TypeAlias

from psycopg import sql
from psycopg.types.json import Jsonb

from ..errors import ValidationError
from .named import Query, QueryError

__all__ = [
    "FIELD_OPERATORS",
    "KEY_PATTERN",
    "Filter",
    "Predicate",
    "check_filter",
    "compile_filter",
    "splice",
]

Filter: TypeAlias = Mapping[str, Any]
Scalar: TypeAlias = "str | int | float | bool | None"

KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")  # one segment of a dotted key
MAX_SEGMENTS = 8
MAX_NODES = 1_000  # operators and values in one filter
MAX_DEPTH = 32
MAX_STRING = 10_000
ORDERING = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
FIELD_OPERATORS: frozenset[str] = frozenset(
    [
        *ORDERING,
        *("$eq", "$ne", "$between", "$in", "$nin", "$exists"),
        *("$like", "$ilike", "$contains", "$size", "$not"),
    ]
)
LOGICAL = ("$and", "$or", "$not")
_LONE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\$")  # an odd number of trailing backslashes


# -- the parsed form --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    path: tuple[str, ...]
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Bool:
    op: str  # "and" | "or" | "not"
    items: tuple[Node, ...]


Node: TypeAlias = "Leaf | Bool"


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES

    def take(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise ValidationError(f"filter: more than {MAX_NODES} operators and values")


def _fail(where: str, problem: str) -> ValidationError:
    return ValidationError(f"filter{where}: {problem}")


def _path(key: object, where: str) -> tuple[str, ...]:
    if not isinstance(key, str):
        raise _fail(where, f"keys must be strings, not {type(key).__name__}")
    parts = tuple(key.split("."))
    if len(parts) > MAX_SEGMENTS or not all(KEY_PATTERN.fullmatch(p) for p in parts):
        raise _fail(
            where,
            f"invalid field name {key[:80]!r}: use letters, digits, '_' and '-' "
            f"(starting with a letter or '_', up to 64 each), dotted for nesting "
            f"(at most {MAX_SEGMENTS} levels)",
        )
    return parts


def _scalar(value: object, where: str) -> Scalar:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(where, "numbers must be finite (no NaN or infinity)")
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise _fail(where, "text contains a NUL character")
        if len(value) > MAX_STRING:
            raise _fail(where, f"text is longer than {MAX_STRING} characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail(where, "text is not valid UTF-8") from None
        return value
    raise _fail(where, f"expected a string, number, boolean or None, not {type(value).__name__}")


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _ordered(value: object, where: str) -> Scalar:
    v = _scalar(value, where)
    if not (_is_number(v) or isinstance(v, str)):
        raise _fail(where, "ordering operators take a number or a string")
    return v


def _list(value: object, where: str, budget: _Budget, *, empty: bool = True) -> list[Scalar]:
    if not isinstance(value, list | tuple):
        raise _fail(where, "expected a list of values")
    if not value and not empty:
        raise _fail(where, "expected a non-empty list")
    budget.take(len(value))
    return [_scalar(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _operand(op: str, value: object, where: str, budget: _Budget) -> Any:
    if op in ("$eq", "$ne"):
        return _scalar(value, where)
    if op in ORDERING:
        return _ordered(value, where)
    if op == "$between":
        pair = _list(value, where, budget)
        if len(pair) != 2:
            raise _fail(where, "$between takes [low, high]")
        lo, hi = (_ordered(v, where) for v in pair)
        if _is_number(lo) != _is_number(hi):
            raise _fail(where, "$between bounds must be both numbers or both strings")
        return (lo, hi)
    if op in ("$in", "$nin"):
        return tuple(_list(value, where, budget))
    if op == "$contains":
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(_list(items, where, budget, empty=False))
    if op == "$exists":
        if not isinstance(value, bool):
            raise _fail(where, "$exists takes true or false")
        return value
    if op in ("$like", "$ilike"):
        if not isinstance(value, str):
            raise _fail(where, f"{op} takes a text pattern")
        if _LONE_ESCAPE.search(value):
            raise _fail(where, "a LIKE pattern must not end with the escape character '\\'")
        return _scalar(value, where)
    if op == "$size":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
            raise _fail(where, "$size takes a non-negative integer")
        return value
    raise _fail(where, f"unknown operator {op!r} (use one of {', '.join(sorted(FIELD_OPERATORS))})")


def _field(path: tuple[str, ...], spec: object, where: str, budget: _Budget, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise _fail(where, f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(spec, Mapping):
        budget.take()
        return Leaf(path, "$eq", _scalar(spec, where))
    if not spec:
        raise _fail(where, "an empty operator object; give a value or {'$op': value}")
    items: list[Node] = []
    for op, value in spec.items():
        at = f"{where}.{op}"
        if not isinstance(op, str) or not op.startswith("$"):
            raise _fail(
                where,
                f"{op!r} is not an operator; to match a nested field use a dotted key "
                f"('{'.'.join(path)}.{op}')",
            )
        budget.take()
        if op == "$not":
            items.append(Bool("not", (_field(path, _need_map(value, at), at, budget, depth + 1),)))
        else:
            items.append(Leaf(path, op, _operand(op, value, at, budget)))
    return items[0] if len(items) == 1 else Bool("and", tuple(items))


def _need_map(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"expected an object, not {type(value).__name__}")
    return value


def _parse(f: object, where: str, budget: _Budget, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise _fail(where, f"nested deeper than {MAX_DEPTH} levels")
    items: list[Node] = []
    for key, value in _need_map(f, where or " (top level)").items():
        at = f"{where}.{key}" if where else f" at {key!s:.80}"
        if isinstance(key, str) and key.startswith("$"):
            budget.take()
            items.append(_logical(key, value, at, budget, depth))
        else:
            items.append(_field(_path(key, at), value, at, budget, depth + 1))
    return items[0] if len(items) == 1 else Bool("and", tuple(items))


def _logical(op: str, value: object, where: str, budget: _Budget, depth: int) -> Node:
    if op == "$not":
        return Bool("not", (_parse(value, where, budget, depth + 1),))
    if op in ("$and", "$or"):
        if not isinstance(value, list | tuple) or not value:
            raise _fail(where, f"{op} takes a non-empty list of filters")
        parts = tuple(_parse(v, f"{where}[{i}]", budget, depth + 1) for i, v in enumerate(value))
        return Bool(op[1:], parts)
    if op in FIELD_OPERATORS:
        raise _fail(where, f"{op} must be inside a field: {{'field': {{'{op}': ...}}}}")
    raise _fail(where, f"unknown operator {op!r} (logical operators: {', '.join(LOGICAL)})")


def check_filter(f: Filter) -> Node:
    """Validate ``f`` and return its parsed form; raises :class:`ValidationError`."""
    return _parse(f, "", _Budget(), 0)


# -- compiling --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Predicate:
    """A boolean SQL expression with ``%(name)s`` placeholders and their values."""

    sql: sql.Composable
    params: Mapping[str, Any] = field(default_factory=dict)


_TYPE_NAMES = {"number": sql.SQL("'number'"), "string": sql.SQL("'string'")}


class _Compiler:
    def __init__(self, column: sql.Composable, prefix: str) -> None:
        self.column = column
        self.prefix = prefix
        self.params: dict[str, Any] = {}
        self._n = count()

    def bind(self, value: Any, cast: str | None = None) -> sql.Composable:
        name = f"{self.prefix}{next(self._n)}"
        self.params[name] = value
        ph = sql.Placeholder(name)
        return sql.SQL("{}::{}").format(ph, sql.SQL(cast)) if cast else ph

    def contains(self, path: tuple[str, ...], value: Any) -> sql.Composable:
        doc: Any = value
        for key in reversed(path):
            doc = {key: doc}
        return sql.SQL("{} @> {}").format(self.column, self.bind(Jsonb(doc), "jsonb"))

    def node(self, n: Node) -> sql.Composable:
        if isinstance(n, Leaf):
            return self.leaf(n)
        if n.op == "not":
            return sql.SQL("({}) IS NOT TRUE").format(self.node(n.items[0]))
        if not n.items:  # {} (only "and" can be empty)
            return sql.SQL("true")
        joiner = sql.SQL(" AND " if n.op == "and" else " OR ")
        return sql.SQL("({})").format(joiner.join(self.node(i) for i in n.items))

    def leaf(self, n: Leaf) -> sql.Composable:
        op, v = n.op, n.value
        if op == "$eq":
            return self.contains(n.path, v)
        if op == "$ne":
            return sql.SQL("NOT ({})").format(self.contains(n.path, v))
        if op in ("$in", "$nin"):
            any_of = self.any_of(n.path, v)
            return any_of if op == "$in" else sql.SQL("NOT {}").format(any_of)
        if op == "$contains":
            return self.contains(n.path, list(v))
        path = self.bind(list(n.path), "text[]")
        value = sql.SQL("({} #> {})").format(self.column, path)
        if op == "$exists":
            return sql.SQL("{} IS NOT NULL" if v else "{} IS NULL").format(value)
        if op == "$size":
            return sql.SQL(
                "CASE WHEN jsonb_typeof({v}) = 'array' THEN jsonb_array_length({v}) = {n} END"
            ).format(v=value, n=self.bind(v, "integer"))
        if op in ("$like", "$ilike"):
            text = sql.SQL("({} #>> {})").format(self.column, path)
            like = sql.SQL("{} LIKE {}" if op == "$like" else "{} ILIKE {}")
            return self.typed(value, "string", like.format(text, self.bind(v, "text")))
        text = sql.SQL('({} #>> {}) COLLATE "C"').format(self.column, path)
        bounds = v if op == "$between" else (v,)
        kind = "number" if _is_number(bounds[0]) else "string"
        lhs = value if kind == "number" else text

        def operand(b: Any) -> sql.Composable:
            return self.bind(Jsonb(b), "jsonb") if kind == "number" else self.bind(b, "text")

        if op == "$between":
            test = sql.SQL("{} BETWEEN {} AND {}").format(lhs, operand(v[0]), operand(v[1]))
        else:
            test = sql.SQL("{} {} {}").format(lhs, sql.SQL(ORDERING[op]), operand(v))
        return self.typed(value, kind, test)

    def typed(self, value: sql.Composable, kind: str, test: sql.Composable) -> sql.Composable:
        return sql.SQL("(jsonb_typeof({}) = {} AND {})").format(value, _TYPE_NAMES[kind], test)

    def any_of(self, path: tuple[str, ...], values: Sequence[Any]) -> sql.Composable:
        if not values:
            return sql.SQL("false")
        return sql.SQL("({})").format(sql.SQL(" OR ").join(self.contains(path, v) for v in values))


def compile_filter(f: Filter, column: sql.Composable, *, prefix: str = "filter_") -> Predicate:
    """Validate ``f`` and compile it to a predicate on the JSON ``column``.

    ``column`` is SQL composed by the caller from constants (e.g. ``sql.SQL("e.source")``);
    parameters are named ``<prefix>0``, ``<prefix>1`` ...
    """
    node = check_filter(f)
    compiler = _Compiler(column, prefix)
    return Predicate(compiler.node(node), compiler.params)


# -- splicing into a named query ---------------------------------------------------------


def _marker(slot: str) -> bytes:
    return f"true /* {slot} */".encode()


def splice(query: Query, **predicates: Predicate | None) -> Query:
    """``query`` with each ``true /* <slot> */`` marker replaced by its predicate.

    A named query marks where a filter may go with the SQL constant ``true /* filter */``
    (so the file stays valid SQL, and runs unfiltered as written). The predicates'
    parameters join the query's; a name the query already uses is an error.
    """
    text, params = query.sql, list(query.params)
    for slot, predicate in predicates.items():
        marker = _marker(slot)
        if marker not in text:
            raise QueryError(f"{query.where}: {query.name} has no {marker.decode()!r} marker")
        if predicate is None:
            continue
        clash = sorted(set(predicate.params) & set(params))
        if clash:
            raise QueryError(f"{query.name}: filter parameters clash with {', '.join(clash)}")
        text = text.replace(marker, predicate.sql.as_string().encode())
        params.extend(predicate.params)
    return replace(query, sql=text, params=tuple(params))
