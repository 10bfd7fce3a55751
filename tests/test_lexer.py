"""The SQL lexer: parameters are found exactly where PostgreSQL would see them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgrecall.query.lexer import LexError, compile_sql, split_statements

# Pieces of SQL that must pass through unchanged (but for doubled %).
_OPAQUE = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="'\x00"), max_size=20).map(
        lambda s: "'" + s + "'"
    ),
    st.text(alphabet=st.characters(blacklist_characters="'\\\x00"), max_size=20).map(
        lambda s: "E'" + s + "\\''"
    ),
    st.text(alphabet=st.characters(blacklist_characters='"\x00'), min_size=1, max_size=20).map(
        lambda s: '"' + s + '"'
    ),
    st.text(alphabet=st.characters(blacklist_characters="$\x00"), max_size=20).map(
        lambda s: "$fn$" + s + "$fn$"
    ),
    st.text(alphabet=st.characters(blacklist_characters="\n\r\x00"), max_size=20).map(
        lambda s: "-- " + s + "\n"
    ),
    st.text(alphabet=st.characters(blacklist_characters="*/\x00"), max_size=20).map(
        lambda s: "/* " + s + " */"
    ),
    st.sampled_from(["::int", "::timestamptz", " 5 % 3 ", " a := 1 ", " arr[1:2] ", " $1 "]),
)
_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)


@given(st.lists(st.tuples(_OPAQUE, _NAMES), max_size=8))
def test_params_found_only_outside_opaque_text(parts: list[tuple[str, str]]) -> None:
    sql = "SELECT " + " ".join(f"{opaque} , :{name}" for opaque, name in parts)
    stmt = compile_sql(sql)
    expected = list(dict.fromkeys(name for _, name in parts))
    assert list(stmt.params) == expected
    for opaque, _ in parts:
        assert opaque.replace("%", "%%") in stmt.text


@given(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=200))
def test_never_crashes_on_any_text(sql: str) -> None:
    try:
        stmt = compile_sql(sql)
    except LexError as exc:
        assert 0 <= exc.offset <= len(sql)
    else:
        assert stmt.text.count("%(") == len(stmt.param_offsets)


@given(st.text(alphabet="%ab ", max_size=30))
def test_literal_percent_is_doubled(sql: str) -> None:
    assert compile_sql(sql).text == sql.replace("%", "%%")


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT :a::int, :b", ("a", "b")),
        ("SELECT 'it''s :not' || :yes", ("yes",)),
        ("SELECT E'\\' :not' || :yes", ("yes",)),
        ("SELECT $$ :not $$, $x$ $$ :not $x$, :yes", ("yes",)),
        ("SELECT /* :not /* nested :not */ */ :yes -- :not", ("yes",)),
        ('SELECT ":not" FROM t WHERE x = :yes AND y = :yes', ("yes",)),
        ("SELECT a$b, $1, :yes", ("yes",)),
        ("SELECT arr[1:2], :yes", ("yes",)),
    ],
    ids=["cast", "quote", "e-string", "dollar", "comments", "ident", "dollar-ident", "slice"],
)
def test_known_cases(sql: str, params: tuple[str, ...]) -> None:
    assert compile_sql(sql).params == params


@pytest.mark.parametrize(
    "sql", ["SELECT 'open", 'SELECT "open', "SELECT $$ open", "SELECT /* open"], ids=str
)
def test_unterminated(sql: str) -> None:
    with pytest.raises(LexError):
        compile_sql(sql)


def test_statement_count() -> None:
    assert compile_sql("SELECT 1; -- trailing comment\n").statements == 1
    two = compile_sql("SELECT 1;\nSELECT ';'")
    assert two.statements == 2 and two.extra_offset == len("SELECT 1;\n")
    assert compile_sql("SELECT $$;$$").statements == 1


@given(st.lists(st.tuples(_OPAQUE, _NAMES), min_size=1, max_size=6))
def test_split_statements_ignores_semicolons_in_opaque_text(parts: list[tuple[str, str]]) -> None:
    statements = [f"SELECT {name} {opaque}" for opaque, name in parts]
    script = ";\n".join(statements)
    starts, line = [], 1
    for stmt in statements:
        starts.append(line)
        line += stmt.count("\n") + 1
    found = split_statements(script)
    assert [s.line for s in found] == starts
    assert all(s.text.startswith("SELECT ") for s in found)
    assert all("--" not in s.text and "/*" not in s.text for s in found)
