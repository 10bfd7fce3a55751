"""The metadata filter language (pgrecall.query.filters), compiled and run on PostgreSQL.

The predicates run against a scratch table ``t(id, m jsonb)``; the property test checks
that a random filter selects exactly the rows a Python evaluation of the documented
semantics selects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb

from pgrecall.errors import ValidationError
from pgrecall.query.filters import Filter, Predicate, compile_filter, splice
from pgrecall.query.named import Query, QueryError

ROWS: dict[int, dict[str, Any]] = {
    1: {"lang": "en", "year": 2021, "score": 0.5, "draft": False, "tags": ["a", "b"]},
    2: {"lang": "de", "year": 2019, "score": 1, "draft": True, "tags": []},
    3: {"lang": "en", "year": "2021", "owner": {"name": "ana", "team": "x"}},
    4: {"lang": None, "year": 2023.0, "title": "Harbour Cranes", "tags": ["b"]},
    5: {"title": "harbour_report 100%", "n": {"deep": {"er": 1}}},
    6: {},
}


@pytest.fixture(scope="module")
def conn(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("CREATE TEMP TABLE t (id integer PRIMARY KEY, m jsonb NOT NULL)")
        yield c


def load(conn: psycopg.Connection[Any], rows: Mapping[int, Any]) -> None:
    conn.execute("TRUNCATE t")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO t VALUES (%s, %s)", [(i, Jsonb(m)) for i, m in rows.items()])


def select(conn: psycopg.Connection[Any], f: Filter) -> list[int]:
    p = compile_filter(f, sql.SQL("t.m"))
    query = sql.SQL("SELECT id FROM t WHERE {} ORDER BY id").format(p.sql)
    return [r[0] for r in conn.execute(query, p.params)]


@pytest.fixture
def fixed(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    load(conn, ROWS)
    return conn


# -- every operator ---------------------------------------------------------------------

CASES: list[tuple[Filter, list[int]]] = [
    ({}, [1, 2, 3, 4, 5, 6]),
    ({"lang": "en"}, [1, 3]),
    ({"lang": {"$eq": "en"}}, [1, 3]),
    ({"lang": None}, [4]),  # JSON null, not a missing field
    ({"score": 1.0}, [2]),  # numbers by value
    ({"score": True}, []),  # true is not 1
    ({"draft": False}, [1]),
    ({"year": 2021}, [1]),  # the string "2021" is another type
    ({"year": "2021"}, [3]),
    ({"tags": "a"}, []),  # a scalar never equals an array: use $contains
    ({"lang": {"$ne": "en"}}, [2, 4, 5, 6]),  # missing and null match $ne
    ({"year": {"$gt": 2020}}, [1, 4]),  # "2021" (text) does not compare with 2020
    ({"year": {"$gte": 2021}}, [1, 4]),
    ({"year": {"$lt": 2021}}, [2]),
    ({"year": {"$lte": 2021}}, [1, 2]),
    ({"year": {"$gte": 2020, "$lt": 2022}}, [1]),
    ({"year": {"$between": [2019, 2021]}}, [1, 2]),
    ({"year": {"$between": ["2000", "3000"]}}, [3]),  # strings compare as text
    ({"title": {"$gt": "Z"}}, [5]),  # code point order: "H" < "Z" < "h"
    ({"lang": {"$in": ["de", "fr"]}}, [2]),
    ({"lang": {"$in": []}}, []),
    ({"lang": {"$in": [None, "de"]}}, [2, 4]),
    ({"lang": {"$nin": ["en"]}}, [2, 4, 5, 6]),
    ({"lang": {"$nin": []}}, [1, 2, 3, 4, 5, 6]),
    ({"lang": {"$exists": True}}, [1, 2, 3, 4]),
    ({"lang": {"$exists": False}}, [5, 6]),
    ({"title": {"$like": "Harbour%"}}, [4]),
    ({"title": {"$like": "%100\\%"}}, [5]),  # escaped %
    ({"title": {"$like": "harbour\\_%"}}, [5]),
    ({"title": {"$ilike": "harbour%"}}, [4, 5]),
    ({"year": {"$like": "20%"}}, [3]),  # only string fields
    ({"tags": {"$contains": "b"}}, [1, 4]),
    ({"tags": {"$contains": ["a", "b"]}}, [1]),
    ({"tags": {"$size": 0}}, [2]),
    ({"tags": {"$size": 1}}, [4]),
    ({"lang": {"$size": 0}}, []),  # not an array: no match, no error
    ({"owner.name": "ana"}, [3]),
    ({"owner.team": {"$in": ["x", "y"]}}, [3]),
    ({"n.deep.er": {"$gte": 1}}, [5]),
    ({"owner.name.first": {"$exists": True}}, []),  # through a string: missing
    ({"$or": [{"lang": "de"}, {"year": {"$gt": 2022}}]}, [2, 4]),
    ({"$and": [{"lang": "en"}, {"year": 2021}]}, [1]),
    ({"$not": {"lang": "en"}}, [2, 4, 5, 6]),
    ({"$not": {"year": {"$gt": 2020}}}, [2, 3, 5, 6]),  # two-valued: missing -> not matched
    ({"year": {"$not": {"$gt": 2020}}}, [2, 3, 5, 6]),
    ({"$not": {"tags": {"$size": 0}}}, [1, 3, 4, 5, 6]),
    ({"$not": {}}, []),
    ({"$and": [{}]}, [1, 2, 3, 4, 5, 6]),
    ({"$or": [{"$not": {"lang": {"$exists": True}}}, {"draft": True}]}, [2, 5, 6]),
]


@pytest.mark.parametrize(("f", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(fixed: psycopg.Connection[Any], f: Filter, expected: list[int]) -> None:
    assert select(fixed, f) == expected
    assert select(fixed, f) == sorted(i for i, m in ROWS.items() if matches(f, m))


# -- validation and injection -----------------------------------------------------------

BAD: list[tuple[Any, str]] = [
    ([("a", 1)], "expected an object"),
    ({"a": {"$gt": None}}, "ordering operators take a number or a string"),
    ({"a": {"$gt": True}}, "ordering operators take a number or a string"),
    ({"a": {"$gt": [1]}}, "expected a string, number"),
    ({"a": {"$in": "abc"}}, "expected a list"),
    ({"a": {"$between": [1]}}, "takes [low, high]"),
    ({"a": {"$between": [1, "z"]}}, "both numbers or both strings"),
    ({"a": {"$exists": 1}}, "$exists takes true or false"),
    ({"a": {"$like": 5}}, "takes a text pattern"),
    ({"a": {"$like": "ab\\"}}, "escape character"),
    ({"a": {"$size": -1}}, "non-negative integer"),
    ({"a": {"$contains": []}}, "non-empty list"),
    ({"a": {"$regex": "x"}}, "unknown operator '$regex'"),
    ({"a": {}}, "empty operator object"),
    ({"a": {"b": 1}}, "dotted key ('a.b')"),
    ({"a": {"$eq": {"b": 1}}}, "expected a string, number"),
    ({"a": float("nan")}, "finite"),
    ({"a": float("inf")}, "finite"),
    ({"a": "x\x00y"}, "NUL"),
    ({"a": "\ud800"}, "UTF-8"),
    ({"$or": []}, "non-empty list of filters"),
    ({"$and": {"a": 1}}, "non-empty list of filters"),
    ({"$not": [{"a": 1}]}, "expected an object"),
    ({"$gt": 1}, "must be inside a field"),
    ({"$where": "1=1"}, "unknown operator '$where'"),
    ({1: "a"}, "keys must be strings"),
    ({"": 1}, "invalid field name"),
    ({"a..b": 1}, "invalid field name"),
    ({"1a": 1}, "invalid field name"),
    ({"a" * 65: 1}, "invalid field name"),
    ({".".join("abcdefghi"): 1}, "invalid field name"),
    ({"a": {"$in": list(range(1001))}}, "more than 1000"),
]

INJECTION_KEYS = [
    "a') OR 1=1 --",
    "a'; DROP TABLE t; --",
    'a" OR true --',
    "a->>'x'",
    "a}' OR '1'='1",
    "%(filter_0)s",
    "a b",
    "a\x00",
    "$or",
]


@pytest.mark.parametrize(("f", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_invalid_filter_names_the_problem(f: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        compile_filter(f, sql.SQL("m"))


@pytest.mark.parametrize("key", INJECTION_KEYS)
def test_injection_through_keys_is_rejected(key: str) -> None:
    with pytest.raises(ValidationError):
        compile_filter({key: 1}, sql.SQL("m"))
    with pytest.raises(ValidationError):
        compile_filter({"$or": [{"ok": 1}, {key: {"$exists": True}}]}, sql.SQL("m"))


@pytest.mark.parametrize(
    "value",
    ["x') OR 1=1 --", "'; DROP TABLE t; --", "%(tenant_id)s", "%s", "$1", "\\'", '"}'],
)
def test_values_are_bound_never_spliced(fixed: psycopg.Connection[Any], value: str) -> None:
    for f in ({"lang": value}, {"lang": {"$gt": value}}, {"lang": {"$like": value + "%"}}):
        p = compile_filter(f, sql.SQL("t.m"))
        assert value not in p.sql.as_string()
        assert select(fixed, f) == sorted(i for i, m in ROWS.items() if matches(f, m))
    assert select(fixed, {"lang": {"$ne": value}}) == [1, 2, 3, 4, 5, 6]  # table intact


def test_keys_are_bound_not_in_the_sql_text() -> None:
    p = compile_filter({"secret_key": {"$gt": 1}, "other": "v"}, sql.SQL("m"))
    text = p.sql.as_string()
    assert "secret_key" not in text and "other" not in text
    assert ["secret_key"] in p.params.values()


# -- splicing into a named query ---------------------------------------------------------


def test_splice_replaces_markers_and_adds_parameters(fixed: psycopg.Connection[Any]) -> None:
    q = Query.from_string(
        "q", "many", "SELECT id FROM t WHERE id > :low AND true /* filter */ ORDER BY id"
    )
    p = compile_filter({"lang": "en"}, sql.SQL("t.m"))
    spliced = splice(q, filter=p)
    assert set(spliced.params) == {"low", *p.params}
    rows = fixed.execute(spliced.sql, dict(spliced.bind({"low": 0, **p.params}))).fetchall()
    assert [r[0] for r in rows] == [1, 3]
    assert splice(q, filter=None) is not q and splice(q, filter=None).sql == q.sql
    with pytest.raises(QueryError, match="no 'true /\\* other \\*/' marker"):
        splice(q, other=p)
    clash = Predicate(sql.SQL("true"), {"low": 1})
    with pytest.raises(QueryError, match="clash"):
        splice(q, filter=clash)


# -- property: SQL == Python ------------------------------------------------------------

MISSING = object()


def lookup(meta: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(meta, dict) or key not in meta:
            return MISSING
        meta = meta[key]
    return meta


def jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names[type(v)]


def same(a: Any, b: Any) -> bool:
    return a is not MISSING and jtype(a) == jtype(b) and a == b


def like(value: str, pattern: str, fold: bool) -> bool:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    flags = re.S | (re.I if fold else 0)
    return re.fullmatch("".join(out), value, flags) is not None


def compare(op: str, x: Any, v: Any) -> bool:
    if x is MISSING or jtype(x) != jtype(v):
        return False
    results: dict[str, bool] = {"$lt": x < v, "$lte": x <= v, "$gt": x > v, "$gte": x >= v}
    return results[op]


def field_op(op: str, x: Any, v: Any) -> bool:
    if op == "$eq":
        return same(x, v)
    if op == "$ne":
        return not same(x, v)
    if op == "$in":
        return any(same(x, i) for i in v)
    if op == "$nin":
        return not any(same(x, i) for i in v)
    if op in ("$lt", "$lte", "$gt", "$gte"):
        return compare(op, x, v)
    if op == "$between":
        return compare("$gte", x, v[0]) and compare("$lte", x, v[1])
    if op == "$exists":
        return (x is not MISSING) is bool(v)
    if op in ("$like", "$ilike"):
        return isinstance(x, str) and like(x, v, op == "$ilike")
    if op == "$contains":
        items = v if isinstance(v, list) else [v]
        return isinstance(x, list) and all(any(same(e, i) for e in x) for i in items)
    if op == "$size":
        return isinstance(x, list) and len(x) == int(v)
    if op == "$not":
        return not all(field_op(o, x, w) for o, w in v.items())
    raise AssertionError(op)


def matches(f: Mapping[str, Any], meta: dict[str, Any]) -> bool:
    for key, spec in f.items():
        if key == "$and":
            ok = all(matches(g, meta) for g in spec)
        elif key == "$or":
            ok = any(matches(g, meta) for g in spec)
        elif key == "$not":
            ok = not matches(spec, meta)
        else:
            x = lookup(meta, key)
            ops = spec if isinstance(spec, dict) else {"$eq": spec}
            ok = all(field_op(o, x, v) for o, v in ops.items())
        if not ok:
            return False
    return True


KEYS = ["a", "b", "n.b"]
text = st.text(alphabet="aAb_%é\\", max_size=3)
numbers = st.one_of(st.integers(-3, 3), st.sampled_from([-1.5, 0.0, 1.0, 2.5, 1e-7]))
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.fixed_dictionaries({"b": scalars}))
metas = st.dictionaries(st.sampled_from(["a", "b", "n"]), values, max_size=3)
patterns = st.text(alphabet="aAb%_", max_size=3)
ordered = st.one_of(numbers, text)
non_empty = st.lists(scalars, min_size=1, max_size=2)


def operators() -> st.SearchStrategy[dict[str, Any]]:
    pairs = st.one_of(st.tuples(numbers, numbers), st.tuples(text, text))
    between = pairs.map(list)
    return st.one_of(
        st.builds(lambda v: {"$eq": v}, scalars),
        st.builds(lambda v: {"$ne": v}, scalars),
        st.builds(lambda o, v: {o: v}, st.sampled_from(["$lt", "$lte", "$gt", "$gte"]), ordered),
        st.builds(lambda v: {"$between": v}, between),
        st.builds(lambda o, v: {o: v}, st.sampled_from(["$in", "$nin"]), st.lists(scalars)),
        st.builds(lambda v: {"$exists": v}, st.booleans()),
        st.builds(lambda o, v: {o: v}, st.sampled_from(["$like", "$ilike"]), patterns),
        st.builds(lambda v: {"$contains": v}, st.one_of(scalars, non_empty)),
        st.builds(lambda v: {"$size": v}, st.integers(0, 2)),
    )


field_specs = st.one_of(
    scalars,
    operators(),
    st.builds(lambda a, b: {**a, **b}, operators(), operators()),
    st.builds(lambda o: {"$not": o}, operators()),
)
leaves = st.dictionaries(st.sampled_from(KEYS), field_specs, min_size=1, max_size=2)
filters = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda fs: {"$and": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda fs: {"$or": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda f: {"$not": f}, inner),
        st.builds(lambda f, g: {**f, **g}, leaves, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(metas, min_size=1, max_size=8), f=filters)
def test_property_sql_equals_python(
    conn: psycopg.Connection[Any], rows: list[dict[str, Any]], f: dict[str, Any]
) -> None:
    load(conn, dict(enumerate(rows)))
    expected = [i for i, m in enumerate(rows) if matches(f, m)]
    assert select(conn, f) == expected, (f, rows)
