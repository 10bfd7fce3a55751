"""``pgrecall check``: named queries against the migrated schema and their models.

The fixture ``tests/fixtures/check/bad`` holds deliberately wrong queries; every
line that must be reported ends with ``-- expect: <code>[, <code>]`` and nothing
else may be reported. ``tests/fixtures/check/good`` must pass without a problem,
and so must pgrecall's own queries (no errors).
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Literal
from uuid import UUID

import psycopg
import pytest
from pydantic import BaseModel

from pgrecall import Query, load_queries
from pgrecall.check import Severity, check_queries, run_check
from pgrecall.check.expr import Call, Col, Lit, Ops, Sub, parse_expr
from pgrecall.check.models import TypeExprError, resolve_type, row_shape
from pgrecall.check.nulls import Null, PlanNulls
from pgrecall.check.source import column_line, positional
from pgrecall.check.types import PgType, Verdict, accepts
from pgrecall.cli import main
from pgrecall.models.core import Conversation, User

FIXTURES = Path(__file__).parent / "fixtures" / "check"
_EXPECT = re.compile(r"--\s*expect:\s*(?P<codes>[a-z-]+(?:\s*,\s*[a-z-]+)*)\s*$")
CORE_FILES = ("users.sql", "conversations.sql", "messages.sql")


@pytest.fixture(scope="module")
def fixture_models() -> Iterator[ModuleType]:
    """``tests/fixtures/check/fixture_models.py``, importable as ``fixture_models``."""
    sys.path.insert(0, str(FIXTURES))
    try:
        yield importlib.import_module("fixture_models")
    finally:
        sys.path.remove(str(FIXTURES))


def expected(directory: Path) -> set[tuple[str, int, str]]:
    """``(file, line, code)`` of every ``-- expect:`` marker under ``directory``."""
    found = set()
    for path in sorted(directory.glob("*.sql")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            m = _EXPECT.search(line)
            if m:
                for code in m.group("codes").split(","):
                    found.add((path.name, number, code.strip()))
    return found


# -- against the database ----------------------------------------------------------


def test_project_queries_have_no_errors(db_url: str) -> None:
    report = run_check(db_url)
    assert report.checked > 20
    assert report.errors == [], "\n".join(map(str, report.errors))
    core = [p for p in report.problems if p.path and p.path.name in CORE_FILES]
    assert core == [], "\n".join(map(str, core))


def test_bad_fixture_is_reported_at_each_marked_line(
    db_url: str, fixture_models: ModuleType
) -> None:
    problems = check_queries(db_url, load_queries(FIXTURES / "bad"), models=fixture_models)
    got = {(p.path.name, p.line, p.code) for p in problems if p.path}
    assert got == expected(FIXTURES / "bad")
    assert all(str(p).startswith(f"{p.path}:{p.line}: {p.query}: ") for p in problems)


def test_good_fixture_passes(db_url: str, fixture_models: ModuleType) -> None:
    problems = check_queries(db_url, load_queries(FIXTURES / "good"), models=fixture_models)
    assert problems == []


def test_messages_say_what_to_change(db_url: str, fixture_models: ModuleType) -> None:
    problems = check_queries(db_url, load_queries(FIXTURES / "bad"), models=fixture_models)
    text = {p.query: p.message for p in problems if p.code != "missing"}
    assert text["user_email"] == (
        "column 'email' can be NULL but UserEmail.email is str; make it str | None,"
        " or add '-- @notnull email' if the query rules NULL out"
    )
    assert text["user_created"] == (
        "column 'created_at' is timestamp with time zone (psycopg returns datetime)"
        " but UserWhen.created_at is str"
    )
    assert text["user_by_nickname"] == 'column "nickname" does not exist'
    assert text["messages_since"].startswith("could not determine data type of parameter $2")
    assert "parameters are prepared untyped" in text["messages_since"]
    assert "(with the declared parameter types: :id as smallint)" in text["message_by_number"]
    assert "cannot adapt type 'dict'" in text["tag_user"]
    no_model = next(p for p in problems if p.code == "no-model")
    assert no_model.severity is Severity.WARNING


def test_queries_without_a_file_and_overrides(db_url: str) -> None:
    q = Query.from_string(
        "pair", "one", "SELECT u.user_id, u.email\nFROM pgrecall.users AS u\nWHERE u.nosuch = :t"
    )
    [p] = check_queries(db_url, [q])
    assert str(p) == "<query pair>: pair: error: column u.nosuch does not exist"
    typed = Query.from_string("n", "scalar", "SELECT :n::int + 1")
    [warning] = check_queries(db_url, [typed])
    assert warning.code == "no-model" and warning.severity is Severity.WARNING


class IdRow(BaseModel):
    id: UUID


def test_maybe_null_is_a_warning_and_notnull_settles_it(db_url: str) -> None:
    q = Query.from_string("ids", "many", "SELECT x AS id FROM unnest(:ids::uuid[]) AS x")
    q = dataclasses.replace(q, directives={"returns": "IdRow"})
    [p] = check_queries(db_url, [q], models=[IdRow])
    assert (p.code, p.severity) == ("maybe-null", Severity.WARNING)
    sure = dataclasses.replace(q, directives={"returns": "IdRow", "notnull": "id"})
    assert check_queries(db_url, [sure], models=[IdRow]) == []


_SNAPSHOT = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'),
       (SELECT count(*) FROM pg_class WHERE relname IN ('check_probe', 'check_user_stage')),
       (SELECT count(*) FROM pgrecall.users), (SELECT count(*) FROM pgrecall.conversations),
       (SELECT count(*) FROM pgrecall.messages), (SELECT count(*) FROM pgrecall.runs)
"""


def test_the_check_changes_nothing(
    db_url: str, fixture_models: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looked at from the check's own session after it finished (no transaction open, the
    temp table it created is gone) and from another session while the check's is still
    open (the catalog and the tables are as before)."""
    import pgrecall.check as check_module

    (tmp_path / "probe.sql").write_text(  # run by the check; kept until commit or disconnect
        "-- name: make_probe :exec\nCREATE TEMP TABLE IF NOT EXISTS check_probe (x int);\n"
    )
    queries = [*load_queries(FIXTURES / "good").values(), *load_queries(tmp_path).values()]
    with psycopg.connect(db_url) as other:
        before = other.execute(_SNAPSHOT).fetchone()
    sessions: list[tuple[psycopg.Connection[Any], Any]] = []
    original = check_module._connect

    @contextmanager
    def keep_open(url: str) -> Iterator[psycopg.Connection[Any]]:
        with original(url) as conn:
            sessions.append((conn, conn.close))
            conn.close = lambda: None  # type: ignore[method-assign]  # looked at below
            yield conn

    monkeypatch.setattr(check_module, "_connect", keep_open)
    problems = check_queries(db_url, queries, models=fixture_models)
    assert [p for p in problems if p.severity == "error"] == []
    [(conn, close)] = sessions
    try:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT to_regclass('pg_temp.check_probe')").fetchone() == (None,)
        with psycopg.connect(db_url) as other:
            assert other.execute(_SNAPSHOT).fetchone() == before
    finally:
        close()


# -- the command line --------------------------------------------------------------


def test_cli_fails_on_errors_and_prints_file_line(
    db_url: str, fixture_models: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--url", db_url, "check", "--in-place", "--source", str(FIXTURES / "bad")]
    code = main([*args, "--models", "fixture_models"])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{FIXTURES / 'bad' / 'users.sql'}:11: user_email: error: column 'email'" in out
    assert re.search(r"pgrecall check: \d+ queries, 1\d error\(s\), 1 warning\(s\)", err)


def test_cli_migrates_a_fresh_database_and_drops_it(
    pg_url: str, fixture_models: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--url", pg_url, "check", "--source", str(FIXTURES / "good"), "-v"]
    assert main([*args, "--models", "fixture_models"]) == 0
    out, _ = capsys.readouterr()
    assert "users_with_email :many -> UserEmail" in out
    assert "    last_content text null" in out
    with psycopg.connect(pg_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgrecall_check%'"
        ).fetchone()
    assert left == (0,)


def test_cli_strict_fails_on_warnings(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "q.sql").write_text("-- name: n :many\nSELECT user_id FROM pgrecall.users;\n")
    base = ["--url", db_url, "check", "--in-place", "--source", str(tmp_path)]
    assert main(base) == 0
    assert main([*base, "--strict"]) == 1
    assert "q.sql:2: n: warning: no model declared" in capsys.readouterr().out


# -- the parts, without a database ---------------------------------------------------


def test_positional_maps_server_positions_back() -> None:
    q = Query.from_string("q", "many", "SELECT :a,\n  ':b', :bb\nFROM t WHERE x = :a")
    pos = positional(q)
    assert pos.text == "SELECT $1,\n  ':b', $2\nFROM t WHERE x = $1"
    assert pos.params == ("a", "bb")
    at_from = pos.text.index("FROM") + 1
    assert q.source[pos.source_offset(at_from) :].startswith("FROM")
    assert q.source[pos.source_offset(pos.text.index("$2") + 1) :].startswith(":bb")


def test_column_line_finds_the_select_list_item() -> None:
    q = Query.from_string(
        "q", "many", "WITH x AS (SELECT 1 AS a)\nSELECT a,\n  b AS c, -- note\n  d::text\nFROM x"
    )
    assert [column_line(q, c) for c in ("a", "c", "d", "zz")] == [2, 3, 4, 2]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("m.content", Col("m", "content")),
        ('"M"."Content"', Col("M", "Content")),
        ("NULL::text", Lit(True)),
        ("'x'::character varying(3)", Lit(False)),
        ("(InitPlan 2).col3", Sub("InitPlan", 2, 3)),
        ("((a.x)::text)::timestamp with time zone", Col("a", "x")),
        ("(a.x IS NOT NULL)", Ops(("is", "not"), (Col("a", "x"), Lit(True)))),
    ],
    ids=["column", "quoted", "null", "literal", "initplan", "casts", "is-not-null"],
)
def test_parse_plan_expressions(text: str, want: object) -> None:
    assert parse_expr(text) == want


def test_parse_calls_with_suffixes() -> None:
    call = parse_expr("(max(m.seq) FILTER (WHERE (m.seq > 1)))")
    assert isinstance(call, Call) and call.name == "max" and call.filtered
    window = parse_expr("sum(m.token_count) OVER w1")
    assert isinstance(window, Call) and window.window == "w1"
    ordered = parse_expr("percentile_cont('0.5'::double precision) WITHIN GROUP (ORDER BY x)")
    assert isinstance(ordered, Call) and ordered.within == (Col(None, "x"),)


def _scan(alias: str, table: str, rel: str, *outputs: str) -> dict[str, Any]:
    return {
        "Node Type": "Seq Scan",
        "Parent Relationship": rel,
        "Schema": "s",
        "Relation Name": table,
        "Alias": alias,
        "Output": list(outputs),
    }


_TABLES = {"c": {"id": True, "title": True, "note": False}, "m": {"id": True, "body": True}}


def _nulls(plan: dict[str, Any], count: int) -> list[Null]:
    return PlanNulls(plan, lambda schema, table: _TABLES[table], 1).outputs(count)


def test_outer_join_sides_and_expressions() -> None:
    join = {
        "Node Type": "Hash Join",
        "Join Type": "Left",
        "Output": [
            "c.id",
            "c.note",
            "m.body",
            "COALESCE(m.body, c.title)",
            "count(*) OVER w1",
            "CASE WHEN (c.id IS NULL) THEN c.title END",
            "(c.title || $1)",
            "(m.body IS NULL)",
            "(InitPlan 1).col1",
        ],
        "Plans": [
            _scan("c", "c", "Outer", "c.id", "c.title", "c.note"),
            {
                "Node Type": "Hash",
                "Parent Relationship": "Inner",
                "Output": ["m.body"],
                "Plans": [_scan("m", "m", "Outer", "m.body")],
            },
            {
                "Node Type": "Aggregate",
                "Strategy": "Plain",
                "Parent Relationship": "InitPlan",
                "Subplan Name": "InitPlan 1",
                "Output": ["count(*)"],
                "Plans": [],
            },
        ],
    }
    n, x = Null.NOT_NULL, Null.NULLABLE
    assert _nulls(join, 9) == [n, x, x, n, n, x, n, n, n]
    join["Join Type"] = "Full"
    assert _nulls(join, 1) == [x]


def test_filters_rule_null_out_unless_an_outer_join_extends_later() -> None:
    scan = _scan("c", "c", "Outer", "c.id", "c.note")
    scan["Filter"] = "((c.note IS NOT NULL) AND (c.id = $1))"
    assert _nulls(scan, 2) == [Null.NOT_NULL, Null.NOT_NULL]
    inner = _scan("m", "m", "Inner", "m.body")
    join = {
        "Node Type": "Nested Loop",
        "Join Type": "Inner",
        "Join Filter": "(c.note @@ m.body)",
        "Output": ["c.note"],
        "Plans": [_scan("c", "c", "Outer", "c.note"), inner],
    }
    assert _nulls(join, 1) == [Null.NOT_NULL]
    join["Join Type"] = "Left"  # the filter decides matches, not which rows come out
    assert _nulls(join, 1) == [Null.NULLABLE]


def test_union_members_are_joined_by_position() -> None:
    plan = {
        "Node Type": "Sort",
        "Output": ["c.id", "c.title"],
        "Plans": [
            {
                "Node Type": "Append",
                "Parent Relationship": "Outer",
                "Plans": [
                    _scan("c", "c", "Member", "c.id", "c.title"),
                    _scan("c_1", "c", "Member", "c_1.id", "c_1.note"),
                ],
            }
        ],
    }
    assert _nulls(plan, 2) == [Null.NOT_NULL, Null.NULLABLE]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("int | None", int | None),
        ("list[UUID]", list[UUID]),
        ("dict[str, Any]", dict[str, Any]),
        ("pgrecall.models:User", User),
        ("pgrecall.models.Conversation", Conversation),
    ],
)
def test_type_expressions(text: str, want: object) -> None:
    assert resolve_type(text, {}) == want


@pytest.mark.parametrize("text", ["int |", "nosuch", "nosuch.module:X", "str[int]", "a b"])
def test_bad_type_expressions(text: str) -> None:
    with pytest.raises(TypeExprError):
        resolve_type(text, {})


def _pg(base: str, element: PgType | None = None, kind: str = "b") -> PgType:
    return PgType(0, base, base, kind, element)


@pytest.mark.parametrize(
    ("annotation", "pg", "want"),
    [
        (UUID, _pg("uuid"), Verdict.OK),
        (str, _pg("uuid"), Verdict.MISMATCH),
        (float, _pg("int4"), Verdict.OK),
        (int, _pg("numeric"), Verdict.MISMATCH),
        (Literal["a", "b"], _pg("text"), Verdict.OK),
        (Literal[1, 2], _pg("text"), Verdict.MISMATCH),
        (str, _pg("mood", kind="e"), Verdict.OK),
        (dict[str, Any], _pg("jsonb"), Verdict.OK),
        (User, _pg("jsonb"), Verdict.OK),
        (list[str], _pg("_text", _pg("text")), Verdict.OK),
        (list[int], _pg("_text", _pg("text")), Verdict.MISMATCH),
        (list[float], _pg("vector"), Verdict.OK),
        (str, _pg("vector"), Verdict.MISMATCH),
        (int | str, _pg("text"), Verdict.OK),
        (Any, _pg("whatever"), Verdict.OK),
        (str, _pg("whatever"), Verdict.UNKNOWN),
    ],
)
def test_annotation_accepts_column_type(annotation: Any, pg: PgType, want: Verdict) -> None:
    assert accepts(annotation, pg) is want


def test_row_shapes(fixture_models: ModuleType) -> None:
    shape = row_shape(fixture_models.RoleTotal)
    assert shape is not None and shape.extra == "forbid" and set(shape.fields) == {"role", "total"}
    model = row_shape(User)
    assert model is not None and model.fields["email"].required
    assert row_shape(int) is None
