"""Loading named-query files: validation with file:line, parameter binding."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgrecall import Kind, Query, QueryError, load_queries
from pgrecall.query.resources import project_queries


def write(tmp_path: Path, text: str, name: str = "q.sql") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_loads_blocks_with_docs_and_directives(tmp_path: Path) -> None:
    write(
        tmp_path,
        "-- queries about x (a file header comment)\n"
        "\n"
        "-- name: get_x :one\n"
        "-- Fetch one x.\n"
        "-- @nullable title\n"
        "-- Second doc line.\n"
        "SELECT id, title FROM x\n"
        "WHERE id = :id AND t = :tenant_id;\n"
        "\n"
        "-- name: count_x :scalar\n"
        "SELECT count(*) FROM x WHERE note LIKE '50%' AND t = :tenant_id\n",
    )
    qs = load_queries(tmp_path)
    assert sorted(qs) == ["count_x", "get_x"]
    get = qs.get_x
    assert get.kind is Kind.ONE and get.params == ("id", "tenant_id")
    assert get.doc == "Fetch one x.\nSecond doc line." and get.directives == {"nullable": "title"}
    assert get.line == 7 and get.where.endswith("q.sql:7")
    assert b"%(id)s" in get.sql and b";" not in get.sql
    assert b"'50%%'" in qs["count_x"].sql


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: a :first\nSELECT 1\n", "q.sql:1: unknown kind :first"),
        ("-- name: a\nSELECT 1\n", "q.sql:1: expected '-- name: <identifier> :<kind>'"),
        ("-- name: a :one\nSELECT 1;\n-- name: a :one\nSELECT 2\n", "q.sql:4: a: already defined"),
        ("-- name: a :one\n\nSELECT 1;\nSELECT 2;\n", "q.sql:3: a: more than one statement"),
        ("-- name: a :one\n-- only a comment\n", "q.sql:1: a: no statement"),
        ("SELECT 1;\n-- name: a :one\nSELECT 2\n", "q.sql:1: statement before any"),
        ("-- name: a :one\nSELECT 1,\n 'open\n", "q.sql:3: a: unterminated quoted string"),
        ("-- name: a :copy\nCOPY t (a) FROM STDIN WHERE a = :a\n", "COPY takes no :parameters"),
    ],
    ids=["kind", "header", "duplicate", "two-statements", "empty", "orphan", "lex", "copy-param"],
)
def test_invalid_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(QueryError) as err:
        load_queries(tmp_path)
    assert message in str(err.value)


def test_duplicate_across_files(tmp_path: Path) -> None:
    write(tmp_path, "-- name: a :exec\nSELECT 1\n", "one.sql")
    write(tmp_path, "-- name: a :exec\nSELECT 2\n", "two.sql")
    with pytest.raises(QueryError, match=r"two\.sql:2: a: already defined at .*one\.sql:2"):
        load_queries(tmp_path)


def test_bind_rejects_missing_and_unknown() -> None:
    q = Query.from_string("q", "one", "SELECT :a, :b")
    assert q.bind({"a": 1, "b": 2}) == {"a": 1, "b": 2}
    with pytest.raises(QueryError, match="missing b; unknown c"):
        q.bind({"a": 1, "c": 3})


def test_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(QueryError, match="no query named 'nope'"):
        project_queries()["nope"]


def test_project_queries_load_with_locations() -> None:
    qs = project_queries()
    assert {"append_message", "context_window", "create_conversation"} <= set(qs)
    for q in qs.values():
        assert q.path is not None and q.line > 0
