"""Named SQL statements loaded from ``.sql`` files (sqlc / aiosql style).

A file holds blocks like::

    -- name: get_conversation :one
    -- Fetch one conversation of the tenant by id.
    SELECT * FROM pgrecall.conversations
    WHERE tenant_id = :tenant_id AND id = :id;

Kinds: ``:one`` (a row or ``None``), ``:many`` (a list), ``:scalar`` (first column
of the first row), ``:exec`` (row count) and ``:copy`` (``COPY ... FROM STDIN``).
Every file is validated when loaded; errors name the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import PgRecallError
from .lexer import LexError, compile_sql

__all__ = ["Kind", "Queries", "Query", "QueryError", "load_queries"]

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<rest>.*)$")
_NAME_SPEC = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+:(?P<kind>[a-z]+)\s*$")


class QueryError(PgRecallError):
    """A named-query file is malformed, or a call does not match its parameters."""


class Kind(StrEnum):
    ONE = "one"
    MANY = "many"
    SCALAR = "scalar"
    EXEC = "exec"
    COPY = "copy"


@dataclass(frozen=True, slots=True)
class Query:
    """One named statement, compiled for psycopg."""

    name: str
    kind: Kind
    source: str  # the statement as written, ``:name`` parameters and all
    params: tuple[str, ...]
    doc: str = ""
    path: Path | None = None
    line: int = 0  # line of the first statement line in ``path``
    sql: bytes = field(default=b"", repr=False)  # ``%(name)s`` form, encoded once
    directives: Mapping[str, str] = field(default_factory=dict, repr=False)
    # ``params`` as a set, computed once: a call's keywords are checked in one comparison
    keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(self.params))

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.path else f"<query {self.name}>"

    def bind(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """Check the call's keywords against the statement's parameters."""
        if params.keys() != self.keys:
            missing = [p for p in self.params if p not in params]
            unknown = sorted(set(params) - set(self.params))
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            if unknown:
                parts.append("unknown " + ", ".join(unknown))
            raise QueryError(f"{self.where}: {self.name}: " + "; ".join(parts))
        return params

    @classmethod
    def from_string(cls, name: str, kind: Kind | str, sql: str) -> Query:
        """Build a query from a string (tests, ad-hoc statements)."""
        return _build(name, Kind(kind), sql, "", None, 1, {})


def _build(
    name: str,
    kind: Kind,
    sql: str,
    doc: str,
    path: Path | None,
    line: int,
    directives: Mapping[str, str],
) -> Query:
    where = f"{path}:{line}" if path else f"<query {name}>"
    text = sql.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    try:
        stmt = compile_sql(text)
    except LexError as exc:
        bad = line + text[: exc.offset].count("\n")
        raise QueryError(f"{path or '<query>'}:{bad}: {name}: {exc}") from None
    if stmt.statements == 0:
        raise QueryError(f"{where}: {name}: no statement")
    if stmt.statements > 1:
        bad = line + text[: stmt.extra_offset or 0].count("\n")
        raise QueryError(f"{where}: {name}: more than one statement (next one at line {bad})")
    if kind is Kind.COPY and stmt.params:
        raise QueryError(f"{where}: {name}: COPY takes no :parameters")
    return Query(
        name=name,
        kind=kind,
        source=text,
        params=stmt.params,
        doc=doc,
        path=path,
        line=line,
        sql=stmt.text.encode(),
        directives=dict(directives),
    )


_DIRECTIVE = re.compile(r"^@(?P<key>[a-z_]+)\s*(?P<value>.*)$")


def _parse_file(path: Path, text: str) -> Iterator[Query]:
    lines = text.splitlines()
    header: tuple[str, Kind, int] | None = None
    doc: list[str] = []
    directives: dict[str, str] = {}
    body: list[str] = []
    body_line = 0

    def flush() -> Iterator[Query]:
        if header is None:
            if "".join(body).strip():
                raise QueryError(f"{path}:{body_line}: statement before any '-- name:' line")
            return
        name, kind, at = header
        if not "".join(body).strip():
            raise QueryError(f"{path}:{at}: {name}: no statement")
        yield _build(name, kind, "\n".join(body), "\n".join(doc), path, body_line, directives)

    for number, raw in enumerate(lines, start=1):
        m = _NAME_LINE.match(raw.strip())
        if m:
            yield from flush()
            header = _parse_header(path, number, m.group("rest"))
            doc, directives, body, body_line = [], {}, [], 0
            continue
        if header is None and (not raw.strip() or raw.strip().startswith("--")):
            continue  # the file's own header comment
        if not body and raw.strip().startswith("--"):
            comment = raw.strip()[2:].strip()
            d = _DIRECTIVE.match(comment)
            if d:
                directives[d.group("key")] = d.group("value").strip()
            else:
                doc.append(comment)
            continue
        if not body and not raw.strip():
            continue
        if not body:
            body_line = number
        body.append(raw)
    yield from flush()


def _parse_header(path: Path, number: int, rest: str) -> tuple[str, Kind, int]:
    spec = _NAME_SPEC.match(rest.strip())
    if not spec:
        raise QueryError(
            f"{path}:{number}: expected '-- name: <identifier> :<kind>', got {rest.strip()!r}"
        )
    try:
        kind = Kind(spec.group("kind"))
    except ValueError:
        kinds = ", ".join(":" + k.value for k in Kind)
        raise QueryError(
            f"{path}:{number}: unknown kind :{spec.group('kind')} (use one of {kinds})"
        ) from None
    return spec.group("name"), kind, number


class Queries(Mapping[str, Query]):
    """The named statements of one or more directories, by name.

    ``queries["get_conversation"]`` and ``queries.get_conversation`` are the same.
    """

    def __init__(self, queries: Mapping[str, Query]) -> None:
        self._queries = dict(queries)

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise QueryError(f"no query named {name!r}") from None

    def __getattr__(self, name: str) -> Query:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)

    def __repr__(self) -> str:
        return f"<Queries {len(self)} statements>"


def load_queries(*paths: str | Path) -> Queries:
    """Load every ``*.sql`` file under the given directories (or single files).

    Raises :class:`QueryError` naming file and line for any malformed block or a
    name defined twice.
    """
    found: dict[str, Query] = {}
    for root in map(Path, paths):
        if not root.exists():
            raise QueryError(f"{root}: no such file or directory")
        files = sorted(root.rglob("*.sql")) if root.is_dir() else [root]
        for path in files:
            for q in _parse_file(path, path.read_text(encoding="utf-8")):
                if q.name in found:
                    raise QueryError(
                        f"{q.where}: {q.name}: already defined at {found[q.name].where}"
                    )
                found[q.name] = q
    return Queries(found)


