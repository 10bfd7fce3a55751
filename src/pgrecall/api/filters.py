"""The metadata filter language (:mod:`pgrecall.query.filters`) as JSON Schema, so the
OpenAPI says which filters the search endpoints accept.

The schema mirrors ``check_filter``: field paths (dotted, up to 8 segments), the field
operators and their operand types, ``$and`` / ``$or`` (non-empty lists) and ``$not``.
What it cannot say (at most 1,000 operators and values, 32 levels) is a 422 at run time.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

__all__ = ["FILTER_SCHEMAS", "Filter"]

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
_PATH = rf"{_SEGMENT}(?:\.{_SEGMENT}){{0,7}}"
_REF = "#/components/schemas/"
_STRING = {"type": "string", "maxLength": 10_000, "pattern": r"^[^\x00]*$"}
_SCALAR = {"anyOf": [_STRING, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]}
_ORDERED = {"anyOf": [_STRING, {"type": "number"}]}


def _pair(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 2, "maxItems": 2}


_SCALARS = {"type": "array", "items": _SCALAR}
_OPS: dict[str, Any] = {
    "$eq": _SCALAR,
    "$ne": _SCALAR,
    **{op: _ORDERED for op in ("$lt", "$lte", "$gt", "$gte")},
    "$between": {"anyOf": [_pair({"type": "number"}), _pair(_STRING)]},
    "$in": _SCALARS,
    "$nin": _SCALARS,
    "$contains": {"anyOf": [_SCALAR, {**_SCALARS, "minItems": 1}]},
    "$exists": {"type": "boolean"},
    # a LIKE pattern: every backslash escapes the next character (none left dangling)
    **{
        op: {"type": "string", "maxLength": 10_000, "pattern": r"^(?:[^\\\x00]|\\[^\x00])*$"}
        for op in ("$like", "$ilike")
    },
    "$size": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "$not": {"$ref": _REF + "FieldCondition"},
}

#: Added to the OpenAPI's components by ``create_app``.
FILTER_SCHEMAS: dict[str, Any] = {
    "Filter": {
        "title": "Filter",
        "description": (
            'A metadata filter: {"lang": "en", "year": {"$gte": 2020}, '
            '"$or": [{"draft": false}, {"owner": "ana"}]}. Keys are field paths (dotted for '
            "nesting) or $and / $or (non-empty lists of filters) / $not (a filter)."
        ),
        "type": "object",
        "propertyNames": {"pattern": rf"^(?:\$and|\$or|\$not|{_PATH})$"},
        "properties": {
            "$and": {"type": "array", "items": {"$ref": _REF + "Filter"}, "minItems": 1},
            "$or": {"type": "array", "items": {"$ref": _REF + "Filter"}, "minItems": 1},
            "$not": {"$ref": _REF + "Filter"},
        },
        "additionalProperties": {"anyOf": [_SCALAR, {"$ref": _REF + "FieldCondition"}]},
    },
    "FieldCondition": {
        "title": "FieldCondition",
        "description": "Operators on one field, combined with AND.",
        "type": "object",
        "properties": _OPS,
        "additionalProperties": False,
        "minProperties": 1,
    },
}



def _whole_sizes(value: Any) -> Any:
    """JSON Schema's integer includes 2.0: ``$size`` operands like it become ints (as
    pydantic does for integer fields), so what the schema accepts, the filter accepts."""
    if isinstance(value, list):
        return [_whole_sizes(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _whole_sizes(v) for k, v in value.items()}
    size = out.get("$size")
    if isinstance(size, float) and size.is_integer():
        out["$size"] = int(size)
    return out


Filter = Annotated[
    dict[str, Any],
    AfterValidator(_whole_sizes),
    WithJsonSchema({"$ref": _REF + "Filter"}),
]
