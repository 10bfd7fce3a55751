"""The SQL side of a check: ``$n`` text with a map back to the file, and directives.

A named query is sent to the server as PostgreSQL's own ``$1, $2 ...`` form so it
can be prepared and described; :class:`Positional` remembers where every piece
came from so a server error position lands on the right line of the ``.sql`` file.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..query.lexer import compile_sql
from ..query.named import Query

__all__ = [
    "Directive",
    "Positional",
    "column_line",
    "directives",
    "line_at",
    "output_list",
    "positional",
]

_PARAM = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_NAME_LINE = re.compile(r"^\s*--\s*name:")
_DIRECTIVE_LINE = re.compile(r"^\s*--\s*@(?P<key>[a-z_]+)\s*(?P<value>.*?)\s*(?:--.*)?$")


@dataclass(frozen=True, slots=True)
class Positional:
    """A statement in ``$n`` form; ``starts[i]`` in the text came from ``origins[i]``."""

    text: str
    params: tuple[str, ...]
    first_use: tuple[int, ...]  # source offset of each parameter's first use
    starts: tuple[int, ...]
    origins: tuple[int, ...]

    def source_offset(self, position: int) -> int:
        """Source offset of the 1-based character ``position`` in :attr:`text`."""
        i = max(bisect.bisect_right(self.starts, position - 1) - 1, 0)
        return self.origins[i] + max(position - 1 - self.starts[i], 0)


def positional(query: Query) -> Positional:
    """Rewrite ``:name`` parameters of ``query.source`` to ``$n`` (first use order)."""
    src = query.source
    stmt = compile_sql(src)
    out: list[str] = []
    starts: list[int] = [0]
    origins: list[int] = [0]
    first: dict[str, int] = {}
    done = 0
    length = 0
    for offset in stmt.param_offsets:
        m = _PARAM.match(src, offset)
        assert m is not None  # the lexer found a parameter here
        out.append(src[done:offset])
        length += offset - done
        marker = f"${stmt.params.index(m.group(1)) + 1}"
        first.setdefault(m.group(1), offset)
        starts.append(length)
        origins.append(offset)
        out.append(marker)
        length += len(marker)
        done = m.end()
        starts.append(length)
        origins.append(done)
    out.append(src[done:])
    return Positional(
        "".join(out),
        stmt.params,
        tuple(first[p] for p in stmt.params),
        tuple(starts),
        tuple(origins),
    )


def line_at(query: Query, offset: int) -> int:
    """The file line of ``query.source[offset]``."""
    return query.line + query.source.count("\n", 0, max(offset, 0))


@dataclass(frozen=True, slots=True)
class Directive:
    """A ``-- @key value`` comment line of a query's header, with its file line."""

    key: str
    value: str
    line: int


@lru_cache(maxsize=256)
def _lines(path: Path, mtime: float) -> tuple[str, ...]:
    del mtime  # part of the cache key only
    return tuple(path.read_text(encoding="utf-8").splitlines())


def directives(query: Query) -> list[Directive]:
    """Every directive line of ``query``, repeated keys included, in file order.

    Read from the file, since ``Query.directives`` keeps only the last value of a
    key; a trailing ``-- comment`` is not part of a value. For a query built from
    a string: ``Query.directives``, at the query's line.
    """
    if query.path is None or not query.path.is_file():
        return [Directive(k, v, query.line) for k, v in query.directives.items()]
    lines = _lines(query.path, query.path.stat().st_mtime)
    top = query.line - 1
    while top > 0 and not _NAME_LINE.match(lines[top - 1]):
        top -= 1
    found = []
    for number in range(top + 1, query.line):
        m = _DIRECTIVE_LINE.match(lines[number - 1])
        if m:
            found.append(Directive(m.group("key"), m.group("value"), number))
    return found


_SQL_TOKEN = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|[A-Za-z_][A-Za-z0-9_$]*|[(),]|\S""",
    re.S,
)
_LIST_END = frozenset({"from", "where", "into", "group", "order", "limit", "union", "having"})


def _top_level(source: str) -> list[tuple[str, int]]:
    """Tokens at parenthesis depth 0 (``(`` and ``)`` excluded), with offsets."""
    out, depth = [], 0
    for m in _SQL_TOKEN.finditer(source):
        tok = m.group(0)
        if tok.startswith(("--", "/*")):
            continue
        depth += (tok == "(") - (tok == ")")
        if depth == 0 and tok not in "()":
            out.append((tok, m.start()))
    return out


def output_list(source: str) -> tuple[int, list[tuple[str, int]]]:
    """Offset of the statement's output list and its items as ``(output name, offset)``.

    The list after a top-level ``RETURNING``, else after the first top-level
    ``SELECT``. Items are named by ``AS name`` or their last identifier.
    """
    toks = _top_level(source)
    words = [t.lower() for t, _ in toks]
    start = words.index("returning") if "returning" in words else None
    if start is None:
        start = words.index("select") if "select" in words else None
    if start is None:
        return 0, []
    items: list[tuple[str, int]] = []
    name, at, prev = "", -1, ""
    for tok, offset in toks[start + 1 :]:
        if tok.lower() in _LIST_END or tok == ",":
            items.append((name, at))
            if tok != ",":
                break
            name, at = "", -1
        else:
            at = offset if at < 0 else at
            if re.match(r'[A-Za-z_"]', tok) and prev != ":":
                name = tok.strip('"')
        prev = tok
    else:
        items.append((name, at))
    return toks[start][1], [(n, o) for n, o in items if n]


def column_line(query: Query, column: str) -> int:
    """The line of ``column`` in the statement's output list (its first line if unknown)."""
    start, items = output_list(query.source)
    for name, offset in items:
        if name == column:
            return line_at(query, offset)
    return line_at(query, start)
