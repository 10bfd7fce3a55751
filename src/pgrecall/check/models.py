"""The Python side of a check: ``@returns`` / ``@param`` type expressions and row fields.

A type expression is ``None``, a builtin (``int``, ``str``, ``UUID``, ``datetime``,
``Jsonb`` ...), a name from the namespace given to the check, or an import path
``package.module:Name``; ``list[...]`` / ``dict[...]`` subscripts and ``|`` unions
are allowed. Nothing is evaluated: the text is parsed here.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from functools import reduce
from types import ModuleType
from typing import Any, Literal
from uuid import UUID

from psycopg.types.json import Json, Jsonb
from pydantic import BaseModel

from .types import split_optional

__all__ = [
    "Field",
    "Namespace",
    "NoSample",
    "RowShape",
    "TypeExprError",
    "namespace",
    "resolve_type",
    "row_shape",
    "sample_value",
]

Namespace = Mapping[str, Any]

_BUILTINS: dict[str, Any] = {
    "None": type(None),
    "Any": Any,
    "object": object,
    "int": int,
    "str": str,
    "float": float,
    "bool": bool,
    "bytes": bytes,
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "set": set,
    "Decimal": Decimal,
    "UUID": UUID,
    "datetime": datetime,
    "date": date,
    "time": time,
    "timedelta": timedelta,
    "Json": Json,
    "Jsonb": Jsonb,
}
_GENERICS: dict[str, Any] = {"list": list, "dict": dict, "tuple": tuple, "set": set}
_TOKEN = re.compile(r"\s*([A-Za-z_][\w.:]*|\||\[|\]|,|\.\.\.)")


class TypeExprError(ValueError):
    """A type expression that does not parse or names nothing importable."""


def namespace(models: Namespace | ModuleType | typing.Iterable[Any] | None) -> dict[str, Any]:
    """Names usable without an import path: a module's globals, a mapping, or classes."""
    if models is None:
        return {}
    if isinstance(models, ModuleType):
        return dict(vars(models))
    if isinstance(models, Mapping):
        return dict(models)
    classes = typing.cast(typing.Iterable[Any], models)
    return {getattr(m, "__name__", str(m)): m for m in classes}


def resolve_type(text: str, names: Namespace) -> Any:
    """The annotation written as ``text`` (e.g. ``pgrecall.models:User``, ``int | None``)."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text) or not tokens:
        raise TypeExprError(f"cannot parse type {text!r}")
    result, rest = _union(tokens, names)
    if rest:
        raise TypeExprError(f"cannot parse type {text!r} (at {rest[0]!r})")
    return result


def _union(tokens: list[str], names: Namespace) -> tuple[Any, list[str]]:
    parts = []
    term, tokens = _term(tokens, names)
    parts.append(term)
    while tokens and tokens[0] == "|":
        term, tokens = _term(tokens[1:], names)
        parts.append(term)
    if len(parts) == 1:
        return parts[0], tokens
    return reduce(lambda a, b: typing.Union[a, b], parts), tokens  # noqa: UP007


def _term(tokens: list[str], names: Namespace) -> tuple[Any, list[str]]:
    if not tokens or not re.match(r"[A-Za-z_]", tokens[0]):
        raise TypeExprError(f"expected a type name, got {tokens[:1]}")
    name, tokens = tokens[0], tokens[1:]
    if not tokens or tokens[0] != "[":
        return _lookup(name, names), tokens
    if name not in _GENERICS:
        raise TypeExprError(f"{name}[...]: only list, dict, tuple and set take arguments")
    args: list[Any] = []
    tokens = tokens[1:]
    while tokens and tokens[0] != "]":
        if tokens[0] == "...":
            args.append(Ellipsis)
            tokens = tokens[1:]
        else:
            arg, tokens = _union(tokens, names)
            args.append(arg)
        if tokens and tokens[0] == ",":
            tokens = tokens[1:]
    if not tokens:
        raise TypeExprError(f"{name}[...]: missing ]")
    return _GENERICS[name][tuple(args) if len(args) > 1 else args[0]], tokens[1:]


def _lookup(name: str, names: Namespace) -> Any:
    if name in names:
        return names[name]
    if name in _BUILTINS:
        return _BUILTINS[name]
    module, sep, attr = name.partition(":")
    if not sep:
        module, _, attr = name.rpartition(".")
    if not module:
        raise TypeExprError(f"unknown type {name!r} (use package.module:Name)")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise TypeExprError(f"cannot import {module!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise TypeExprError(f"{module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True, slots=True)
class Field:
    """A row field: the keyword the row factory passes, its annotation, required or not."""

    key: str
    attr: str
    annotation: Any
    required: bool


@dataclass(frozen=True, slots=True)
class RowShape:
    """The fields of a row class and what it does with unknown keywords."""

    name: str
    fields: dict[str, Field]
    extra: Literal["forbid", "ignore", "allow"]


def row_shape(cls: Any) -> RowShape | None:
    """Fields of a pydantic model, dataclass or NamedTuple; ``None`` for anything else."""
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return _pydantic_shape(cls)
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return _dataclass_shape(cls)
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        hints = typing.get_type_hints(cls)
        defaults = getattr(cls, "_field_defaults", {})
        fields = {f: Field(f, f, hints.get(f, Any), f not in defaults) for f in cls._fields}
        return RowShape(cls.__name__, fields, "forbid")
    return None


def _pydantic_shape(cls: type[BaseModel]) -> RowShape:
    fields = {}
    for attr, info in cls.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        key = alias or attr
        fields[key] = Field(key, attr, info.annotation, info.is_required())
    extra = cls.model_config.get("extra") or "ignore"
    return RowShape(cls.__name__, fields, extra)


def _dataclass_shape(cls: type) -> RowShape:
    hints = typing.get_type_hints(cls)
    fields = {}
    for f in dataclasses.fields(cls):
        if f.init:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            fields[f.name] = Field(f.name, f.name, hints.get(f.name, Any), required)
    return RowShape(cls.__name__, fields, "forbid")


_SAMPLES: dict[type, Any] = {
    str: "x",
    int: 1,
    float: 1.5,
    bool: True,
    bytes: b"x",
    Decimal: Decimal("1.5"),
    UUID: UUID(int=1),
    datetime: datetime(2000, 1, 1, tzinfo=UTC),
    date: date(2000, 1, 1),
    time: time(12),
    timedelta: timedelta(seconds=1),
    dict: {},
}


class NoSample(ValueError):
    """No representative value can be built for a declared parameter type."""


def sample_value(annotation: Any) -> Any:
    """A value of type ``annotation``, to see what psycopg would send for it."""
    inner, _ = split_optional(annotation)
    origin = typing.get_origin(inner)
    if origin is list or origin is tuple:
        args = [a for a in typing.get_args(inner) if a is not Ellipsis]
        return origin([sample_value(args[0])] if args else [])
    if origin is Literal:
        return typing.get_args(inner)[0]
    if origin is dict:
        return {}
    if isinstance(inner, type):
        return _sample_of_class(inner)
    raise NoSample(f"no sample value for {inner!r}")


def _sample_of_class(cls: type) -> Any:
    if issubclass(cls, Enum):
        return next(iter(cls)).value
    for base, value in _SAMPLES.items():
        if cls is base:
            return value
    if issubclass(cls, Json | Jsonb):
        return cls({})
    vector = _vector_sample(cls)
    if vector is not None:
        return vector
    raise NoSample(f"no sample value for {cls.__name__}")


def _vector_sample(cls: type) -> Any:
    import numpy
    from pgvector import HalfVector, SparseVector, Vector

    if cls is numpy.ndarray:
        return numpy.zeros(3, dtype=numpy.float32)
    if cls in (Vector, HalfVector):
        return cls([0.0, 1.0, 2.0])
    if cls is SparseVector:
        return SparseVector([0.0, 1.0, 2.0])
    return None
