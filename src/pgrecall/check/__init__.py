"""``pgrecall check``: verify every named query against the migrated schema and its model.

Each query is prepared on the server and described (parameter types, result
columns and their types); its generic plan tells which columns can be NULL. The
result is compared with the model named in the query's header::

    -- name: get_user :one
    -- @returns pgrecall.models:User
    -- @nullable email          (or @notnull col, when the analysis cannot decide)
    -- @param user_id: str      (the Python type a caller passes, checked to adapt)

Problems are reported as ``file:line: query: severity: message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import psycopg

from ..errors import ConfigurationError
from ..query.named import Query
from ..settings import libpq_url, yoyo_url
from .models import Namespace, namespace
from .nulls import Null
from .query import Described, QueryChecker, is_setup
from .report import Problem, Severity
from .types import describe

__all__ = [
    "CheckReport",
    "Problem",
    "Severity",
    "add_command",
    "check_queries",
    "fresh_database",
    "render",
    "run_check",
]

Models = Namespace | ModuleType | Iterable[Any] | None
QuerySet = Iterable[Query] | Mapping[str, Query]


@dataclass(slots=True)
class CheckReport:
    """Problems of a run, and what the server said about each query that prepared."""

    problems: list[Problem] = field(default_factory=list)
    described: list[Described] = field(default_factory=list)
    checked: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


def run_check(url: str, queries: QuerySet | None = None, *, models: Models = None) -> CheckReport:
    """Check ``queries`` (default: pgrecall's own) on the migrated database at ``url``.

    ``models`` resolves unqualified ``@returns`` / ``@param`` names: a module, a
    mapping of names, or an iterable of classes.
    """
    if queries is None:
        from ..query.resources import project_queries

        queries = project_queries().values()
    report = CheckReport()
    ordered = _ordered(queries)
    with _connect(url) as conn:
        _refuse_citus(conn)
        checker = QueryChecker(conn, namespace(models))
        for query in filter(is_setup, ordered):
            report.problems += checker.setup(query)
        for query in ordered:
            problems, described = checker.check(query)
            report.checked += 1
            report.problems += problems
            if described is not None:
                report.described.append(described)
    report.problems.sort(key=lambda p: (str(p.path or ""), p.line))
    return report


def _refuse_citus(conn: psycopg.Connection[Any]) -> None:
    """The check reads PostgreSQL's plans; Citus replaces them with its Custom Scan."""
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone() is None:
        return
    if conn.execute("SELECT 1 FROM pg_dist_partition LIMIT 1").fetchone() is not None:
        raise ConfigurationError(
            "pgrecall check cannot describe queries on a Citus-distributed database (the "
            "plans are Citus's Custom Scan, which hides column nullability): run it without "
            "--in-place (it migrates a fresh, undistributed database on the same server) "
            "or against a single PostgreSQL"
        )


def check_queries(
    url: str, queries: QuerySet | None = None, *, models: Models = None
) -> list[Problem]:
    """The problems :func:`run_check` finds (errors and warnings, in file order)."""
    return run_check(url, queries, models=models).problems


def _ordered(queries: QuerySet) -> list[Query]:
    items = queries.values() if isinstance(queries, Mapping) else queries
    return sorted(items, key=lambda q: (str(q.path or ""), q.line, q.name))


@contextmanager
def _connect(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection inside a transaction that is rolled back: the check changes nothing."""
    with psycopg.connect(libpq_url(url), autocommit=True, prepare_threshold=None) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        if conn.execute("SELECT 1 FROM pg_type WHERE typname = 'vector'").fetchone():
            from pgvector.psycopg import register_vector

            register_vector(conn)
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")


@contextmanager
def fresh_database(url: str, migrations: Sequence[Path] | None = None) -> Iterator[str]:
    """A temporary database on the server of ``url``, migrated; dropped afterwards."""
    from .. import migrate as migrator
    from ..testing import create_database, drop_database

    temp = create_database(libpq_url(url), prefix="pgrecall_check")
    try:
        migrator.migrate(yoyo_url(temp), sources=migrations)
        yield temp
    finally:
        drop_database(libpq_url(url), urlsplit(temp).path.lstrip("/"))


_NULL_WORDS = {Null.NOT_NULL: "not null", Null.NULLABLE: "null", Null.UNKNOWN: "null?"}


def render(d: Described) -> str:
    """A query's parameters and columns, for ``pgrecall check -v``."""
    q = d.query
    returns = f" -> {describe(d.returns)}" if d.returns is not None else ""
    lines = [f"{q.where}: {q.name} :{q.kind.value}{returns}"]
    for name, typ in d.params:
        lines.append(f"    :{name} {typ.name if typ else '?'}")
    for c in d.columns:
        origin = f"  ({c.origin})" if c.origin else ""
        lines.append(f"    {c.name} {c.type.name if c.type else '?'} {_NULL_WORDS[c.null]}{origin}")
    return "\n".join(lines)
