"""The directives of a query's header comment that ``pgrecall check`` reads.

``-- @returns package.module:Name`` (the row model, or the type of a :scalar),
``-- @nullable col, ...`` / ``-- @notnull col, ...`` (override the NULL analysis),
``-- @param name: type, ...`` (the Python type a caller passes). Other ``@keys``
belong to other tools and are left alone, except near-misses of these.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..query.named import Query
from .report import Problem, Severity, problem
from .source import Directive, directives

__all__ = ["Header", "read_header"]

_KNOWN = ("returns", "nullable", "notnull", "param")


@dataclass(slots=True)
class Header:
    """Directives by kind; each value keeps the file line it was written on."""

    returns: Directive | None = None
    nullable: dict[str, int] = field(default_factory=dict)
    notnull: dict[str, int] = field(default_factory=dict)
    params: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (type, line)
    optional_params: set[str] = field(default_factory=set)  # declared ``T | None``


def read_header(query: Query, out: list[Problem]) -> Header:
    """The check's directives of ``query``; malformed ones are appended to ``out``."""
    head = Header()
    for d in directives(query):
        if d.key == "returns":
            head.returns = d
        elif d.key in ("nullable", "notnull"):
            target = head.nullable if d.key == "nullable" else head.notnull
            target.update(dict.fromkeys(_names(d.value), d.line))
        elif d.key == "param":
            head.params.update(_params(query, d, out))
        elif close := difflib.get_close_matches(d.key, _KNOWN, n=1, cutoff=0.75):
            msg = f"unknown directive @{d.key} (did you mean @{close[0]}?)"
            out.append(problem(query, "directive", msg, line=d.line, severity=Severity.WARNING))
    return head


def _names(value: str) -> list[str]:
    return value.replace(",", " ").split()


def _params(query: Query, d: Directive, out: list[Problem]) -> dict[str, tuple[str, int]]:
    """``-- @param limit: int, ids: list[UUID]`` -> ``{name: (type text, line)}``."""
    found = {}
    for item in _split_top(d.value):
        name, sep, typ = item.partition(":")
        name = name.strip().lstrip(":")
        if not sep or not typ.strip():
            msg = f"@param {item.strip()!r}: write '-- @param name: type'"
            out.append(problem(query, "directive", msg, line=d.line))
        elif name not in query.params:
            msg = f"@param {name}: the statement has no parameter :{name}"
            out.append(problem(query, "directive", msg, line=d.line))
        else:
            found[name] = (typ.strip(), d.line)
    return found


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets: ``a: dict[str, int], b: int``."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "[") - (c == "]")
        if c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]
