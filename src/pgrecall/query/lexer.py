"""A small SQL lexer: enough of PostgreSQL's lexical rules to find ``:name`` parameters.

It knows quoted strings ('' escapes), ``E''`` strings (backslash escapes), quoted
identifiers, dollar-quoted bodies (``$tag$ ... $tag$``), ``--`` and nested ``/* */``
comments, ``::`` casts and the ``:=`` assignment, so none of those is ever mistaken
for a parameter. The output is psycopg's ``%(name)s`` style with literal ``%`` doubled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LexError", "Scanned", "Statement", "compile_sql", "split_statements"]

_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")


class LexError(ValueError):
    """Unterminated string, identifier, comment or dollar-quoted body."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement with ``:name`` parameters rewritten for psycopg."""

    text: str
    params: tuple[str, ...]
    param_offsets: tuple[int, ...]
    statements: int
    extra_offset: int | None  # where a second statement starts, if any


def _skip_quoted(sql: str, i: int, quote: str, backslash: bool) -> int:
    """Return the index after the closing quote that matches sql[i]."""
    n = len(sql)
    j = i + 1
    while j < n:
        c = sql[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == quote:
            if j + 1 < n and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    kind = "identifier" if quote == '"' else "string"
    raise LexError(f"unterminated quoted {kind}", i)


def _skip_block_comment(sql: str, i: int) -> int:
    depth = 0
    n = len(sql)
    j = i
    while j < n:
        if sql.startswith("/*", j):
            depth += 1
            j += 2
        elif sql.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    raise LexError("unterminated /* comment", i)


def _skip_dollar(sql: str, i: int, tag: str) -> int:
    end = sql.find(tag, i + len(tag))
    if end < 0:
        raise LexError(f"unterminated dollar-quoted string {tag}", i)
    return end + len(tag)


def _is_e_string(sql: str, i: int) -> bool:
    """sql[i] is a quote preceded by a standalone E/e prefix."""
    if i == 0 or sql[i - 1] not in "eE":
        return False
    return i == 1 or not (sql[i - 2].isalnum() or sql[i - 2] in "_$")


class _Compiler:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.out: list[str] = []
        self.params: list[str] = []
        self.offsets: list[int] = []
        self.statements = 0
        self.extra: int | None = None
        self.pending = False  # saw significant text since the last ';'

    def significant(self, i: int) -> None:
        if not self.pending:
            self.statements += 1
            if self.statements == 2:
                self.extra = i
            self.pending = True

    def run(self) -> Statement:
        sql, out = self.sql, self.out
        n = len(sql)
        i = 0
        while i < n:
            c = sql[i]
            if c == "'" or c == '"':
                self.significant(i)
                j = _skip_quoted(sql, i, c, c == "'" and _is_e_string(sql, i))
                out.append(sql[i:j].replace("%", "%%"))
                i = j
            elif sql.startswith("--", i):
                j = sql.find("\n", i)
                j = n if j < 0 else j
                out.append(sql[i:j].replace("%", "%%"))
                i = j
            elif sql.startswith("/*", i):
                j = _skip_block_comment(sql, i)
                out.append(sql[i:j].replace("%", "%%"))
                i = j
            elif c == "$" and (m := _DOLLAR_TAG.match(sql, i)) and not _after_ident(sql, i):
                self.significant(i)
                j = _skip_dollar(sql, i, m.group(0))
                out.append(sql[i:j].replace("%", "%%"))
                i = j
            elif c == ":":
                i = self.colon(i)
            elif c == ";":
                self.pending = False
                out.append(c)
                i += 1
            elif c == "%":
                self.significant(i)
                out.append("%%")
                i += 1
            elif c.isspace():
                out.append(c)
                i += 1
            else:
                self.significant(i)
                m = _IDENT.match(sql, i)
                j = m.end() if m else i + 1
                out.append(sql[i:j])
                i = j
        return Statement(
            "".join(out), tuple(self.params), tuple(self.offsets), self.statements, self.extra
        )

    def colon(self, i: int) -> int:
        sql = self.sql
        self.significant(i)
        if sql.startswith("::", i):
            self.out.append("::")
            return i + 2
        if sql.startswith(":=", i):
            self.out.append(":=")
            return i + 2
        if i + 1 < len(sql) and _IDENT_START.match(sql, i + 1):
            m = _IDENT.match(sql, i + 1)
            assert m is not None
            name = m.group(0)
            self.out.append(f"%({name})s")
            if name not in self.params:
                self.params.append(name)
            self.offsets.append(i)
            return m.end()
        self.out.append(":")
        return i + 1


def _after_ident(sql: str, i: int) -> bool:
    """``$`` inside an identifier (``a$b``) or a positional ``$1`` is not a dollar quote."""
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] in "_$")


def compile_sql(sql: str) -> Statement:
    """Rewrite ``:name`` parameters to ``%(name)s`` and double literal ``%``.

    Raises :class:`LexError` for unterminated quotes, comments or dollar quotes.
    """
    return _Compiler(sql).run()


@dataclass(frozen=True, slots=True)
class Scanned:
    """One statement of a script, for pattern checks (the migration lint)."""

    line: int  # 1-based line of its first significant character
    text: str  # comments dropped, string / dollar literals emptied, whitespace collapsed


def _opaque(sql: str, i: int) -> tuple[int, str] | None:
    """A comment or quoted token at ``sql[i]``: (its end, what stands in for it)."""
    c = sql[i]
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return (len(sql) if end < 0 else end), " "
    if sql.startswith("/*", i):
        return _skip_block_comment(sql, i), " "
    if c == "'":
        return _skip_quoted(sql, i, "'", _is_e_string(sql, i)), "''"
    if c == '"':
        end = _skip_quoted(sql, i, '"', False)
        return end, sql[i:end]
    if c == "$" and (m := _DOLLAR_TAG.match(sql, i)) and not _after_ident(sql, i):
        return _skip_dollar(sql, i, m.group(0)), "$$"
    return None


def split_statements(sql: str) -> list[Scanned]:
    """Split a script at ``;`` outside comments and literals.

    Raises :class:`LexError` for unterminated quotes, comments or dollar quotes.
    """
    found: list[Scanned] = []
    buf: list[str] = []
    start: int | None = None

    def flush() -> None:
        if start is not None:
            found.append(Scanned(sql.count("\n", 0, start) + 1, " ".join("".join(buf).split())))

    i = 0
    while i < len(sql):
        token = _opaque(sql, i)
        if token is not None:
            end, stand_in = token
            start = i if start is None and stand_in.strip() else start
            buf.append(stand_in)
            i = end
            continue
        if sql[i] == ";":
            flush()
            buf, start = [], None
        else:
            start = i if start is None and not sql[i].isspace() else start
            buf.append(sql[i])
        i += 1
    flush()
    return found
