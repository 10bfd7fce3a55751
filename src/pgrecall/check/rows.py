"""Compare described result columns with the row model (or scalar type) a query returns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..query.named import Query
from .models import row_shape
from .nulls import Null
from .report import Problem, Severity, problem
from .source import column_line
from .types import Verdict, accepts, describe, split_optional

if TYPE_CHECKING:
    from .query import Column

__all__ = ["compare_row", "compare_scalar"]


def compare_row(query: Query, cls: Any, columns: Sequence[Column]) -> list[Problem]:
    """Columns against the fields of ``cls``: missing, extra, type and NULL mismatches."""
    shape = row_shape(cls)
    if shape is None:
        msg = f"@returns {describe(cls)}: not a pydantic model, dataclass or NamedTuple"
        return [problem(query, "returns", msg, severity=Severity.WARNING)]
    out = _duplicates(query, columns)
    names = {c.name for c in columns}
    for col in columns:
        field = shape.fields.get(col.name)
        if field is None:
            out += _extra(query, shape.name, shape.extra, col.name)
        else:
            label = f"{shape.name}.{field.attr}"
            out += _column(query, col, field.annotation, label)
    for key, field in shape.fields.items():
        if field.required and key not in names:
            msg = (
                f"{shape.name}.{field.attr} is required but the statement returns no column {key!r}"
            )
            out.append(problem(query, "missing", msg, line=column_line(query, "")))
    return out


def compare_scalar(query: Query, annotation: Any, columns: Sequence[Column]) -> list[Problem]:
    """The first column against the ``@returns`` type of a ``:scalar`` query."""
    out = []
    if len(columns) > 1:
        msg = f":scalar uses only the first of the {len(columns)} columns returned"
        out.append(problem(query, "columns", msg, severity=Severity.WARNING))
    return out + _column(query, columns[0], annotation, "@returns")


def _duplicates(query: Query, columns: Sequence[Column]) -> list[Problem]:
    twice = [name for name, n in Counter(c.name for c in columns).items() if n > 1]
    return [
        problem(query, "duplicate", f"column {n!r} is returned twice", line=column_line(query, n))
        for n in twice
    ]


def _extra(query: Query, model: str, extra: str, name: str) -> list[Problem]:
    if extra == "allow":
        return []
    line = column_line(query, name)
    if extra == "ignore":
        msg = f"column {name!r} is not a field of {model} (ignored)"
        return [problem(query, "extra", msg, line=line, severity=Severity.WARNING)]
    return [problem(query, "extra", f"column {name!r} is not a field of {model}", line=line)]


def _column(query: Query, col: Column, annotation: Any, label: str) -> list[Problem]:
    inner, optional = split_optional(annotation)
    line = column_line(query, col.name)
    out = []
    if col.type is not None and accepts(inner, col.type) is Verdict.MISMATCH:
        msg = (
            f"column {col.name!r} is {col.type.name} (psycopg returns {col.type.python_name})"
            f" but {label} is {describe(annotation)}"
        )
        out.append(problem(query, "type", msg, line=line))
    if optional:
        return out
    want = f"{describe(inner)} | None"
    if col.null is Null.NULLABLE:
        msg = (
            f"column {col.name!r} can be NULL but {label} is {describe(annotation)};"
            f" make it {want}, or add '-- @notnull {col.name}' if the query rules NULL out"
        )
        out.append(problem(query, "nullable", msg, line=line))
    elif col.null is Null.UNKNOWN:
        msg = (
            f"cannot tell whether column {col.name!r} can be NULL ({label} is"
            f" {describe(annotation)}); add '-- @notnull {col.name}' or make it {want}"
        )
        out.append(problem(query, "maybe-null", msg, line=line, severity=Severity.WARNING))
    return out
