"""Check one named query on a live connection: prepare, describe, compare.

:class:`QueryChecker` works inside one transaction that is rolled back at the end
(each query under a savepoint). It prepares the statement server-side (declared
``@param`` types are sent as psycopg would send them, the rest untyped), reads
parameter and result types, works out which columns can be NULL from the generic
plan, and compares it all with the query's ``@returns`` model or type.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import abc, pq
from psycopg.adapt import PyFormat, Transformer

from ..query.named import Kind, Query
from .catalog import Catalog
from .header import Header, read_header
from .models import Namespace, NoSample, TypeExprError, resolve_type, sample_value
from .nulls import Null, PlanNulls
from .report import Problem, Severity, problem
from .rows import compare_row, compare_scalar
from .source import Positional, line_at, positional
from .types import PgType, load_types, split_optional

__all__ = ["Column", "Described", "QueryChecker", "is_setup"]

_UNKNOWN_OID = 705
_SAVEPOINT = b"pgrecall_check"
_RETURNING = re.compile(r"\breturning\b", re.I)
_TEMP_TABLE = re.compile(r"^\s*create\s+(?:(?:global|local)\s+)?temp(?:orary)?\s+table\b", re.I)
_counter = itertools.count()
# datatype mismatch, undefined function / operator, ambiguous function / parameter,
# indeterminate datatype
_TYPE_ERRORS = frozenset({b"42804", b"42883", b"42725", b"42P08", b"42P18"})
_UNTYPED = (
    "parameters are prepared untyped here: cast them (:name::jsonb) or declare what the"
    " caller sends ('-- @param name: Jsonb')"
)


def is_setup(query: Query) -> bool:
    """A ``CREATE TEMP TABLE`` :exec: run before the check so later queries can use it."""
    return query.kind is Kind.EXEC and bool(_TEMP_TABLE.match(query.source))


@dataclass(frozen=True, slots=True)
class Column:
    """A result column: name, type, whether it can be NULL, and the table column it reads."""

    name: str
    type: PgType | None
    null: Null = Null.UNKNOWN
    origin: str | None = None
    origin_notnull: bool | None = None


@dataclass(slots=True)
class Described:
    """What the server says about a query (``pgrecall check -v`` prints it)."""

    query: Query
    params: list[tuple[str, PgType | None]] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    returns: Any = None


class QueryChecker:
    """Checks queries on one connection that is inside a transaction block."""

    def __init__(self, conn: psycopg.Connection[Any], names: Namespace) -> None:
        self.conn = conn
        self.pg = conn.pgconn
        self.names = names
        self.catalog = Catalog(conn)

    def setup(self, query: Query) -> list[Problem]:
        """Run a setup statement (see :func:`is_setup`) for the rest of the check."""
        self.pg.exec_(b"SAVEPOINT " + _SAVEPOINT)
        result = self.pg.exec_(query.source.encode())
        if result.status == pq.ExecStatus.COMMAND_OK:
            self.pg.exec_(b"RELEASE SAVEPOINT " + _SAVEPOINT)
            return []
        found = self._server_error(query, _plain(query), result)
        self.pg.exec_(b"ROLLBACK TO SAVEPOINT " + _SAVEPOINT)
        return [found]

    def check(self, query: Query) -> tuple[list[Problem], Described | None]:
        """All problems of ``query``, and its description when it could be prepared."""
        self.pg.exec_(b"SAVEPOINT " + _SAVEPOINT)
        try:
            return self._check(query)
        finally:
            self.pg.exec_(b"ROLLBACK TO SAVEPOINT " + _SAVEPOINT)
            self.pg.exec_(b"RELEASE SAVEPOINT " + _SAVEPOINT)
            self.pg.exec_(b"DEALLOCATE ALL")

    def _check(self, query: Query) -> tuple[list[Problem], Described | None]:
        out: list[Problem] = []
        head = read_header(query, out)
        if query.kind is Kind.COPY:
            return out + self._copy(query), None
        pos = positional(query)
        oids = self._declared_oids(query, head, out)
        if oids is None:
            return out, None
        name = f"pgrecall_check_{next(_counter)}"
        result = self.pg.prepare(name.encode(), pos.text.encode(), oids)
        if result.status != pq.ExecStatus.COMMAND_OK:
            return [*out, self._prepare_error(query, pos, result, oids)], None
        out += self._when_none(query, pos, head, oids)
        described = self._describe(query, name)
        out += self._params(query, pos, described)
        out += self._result(query, pos, name, head, described)
        return out, described

    def _recover(self) -> None:
        """Back to the query's savepoint after a failed statement."""
        self.pg.exec_(b"ROLLBACK TO SAVEPOINT " + _SAVEPOINT)

    # -- parameters ----------------------------------------------------------

    def _declared_oids(self, query: Query, head: Header, out: list[Problem]) -> list[int] | None:
        """The type psycopg sends for each declared ``@param`` (0: let the server infer)."""
        oids: list[int] = []
        tx = Transformer(self.conn)
        failed = False
        for name in query.params:
            oid = 0
            if name in head.params:
                text, line = head.params[name]
                oid, issue = self._dump_oid(tx, name, text, head)
                if issue:
                    out.append(problem(query, "param", issue, line=line))
                    failed = True
            oids.append(oid)
        return None if failed else oids

    def _when_none(
        self, query: Query, pos: Positional, head: Header, oids: list[int]
    ) -> list[Problem]:
        """Parameters declared ``T | None`` go untyped when they are None: prepare that too."""
        optional = [i for i, p in enumerate(query.params) if p in head.optional_params and oids[i]]
        if not optional:
            return []
        untyped = [0 if i in optional else oid for i, oid in enumerate(oids)]
        name = f"pgrecall_check_{next(_counter)}"
        result = self.pg.prepare(name.encode(), pos.text.encode(), untyped)
        if result.status == pq.ExecStatus.COMMAND_OK:
            return []
        self._recover()
        found = self._server_error(query, pos, result)
        names = ", ".join(f":{query.params[i]}" for i in optional)
        msg = f"fails when {names} is None (psycopg sends None untyped): {found.message}"
        return [dataclasses.replace(found, code="param", message=msg)]

    def _dump_oid(
        self, tx: abc.Transformer, name: str, text: str, head: Header
    ) -> tuple[int, str | None]:
        try:
            annotation = resolve_type(text, self.names)
            if split_optional(annotation)[1]:
                head.optional_params.add(name)
            value = sample_value(annotation)
        except (TypeExprError, NoSample) as exc:
            return 0, f"@param {name}: {exc}"
        try:
            return tx.get_dumper(value, PyFormat.AUTO).oid, None
        except psycopg.ProgrammingError as exc:
            return 0, f"@param {name}: psycopg cannot send a {text}: {exc}"

    def _prepare_error(
        self, query: Query, pos: Positional, result: pq.abc.PGresult, oids: list[int]
    ) -> Problem:
        self._recover()
        found = self._server_error(query, pos, result)
        declared = [(n, o) for n, o in zip(query.params, oids, strict=True) if o]
        state = result.error_field(pq.DiagnosticField.SQLSTATE)
        if not declared and query.params and state in _TYPE_ERRORS:
            msg = f"{found.message}; {_UNTYPED}"
            return dataclasses.replace(found, message=msg)
        if not declared:
            return found
        types = load_types(self.conn, [o for _, o in declared])
        sent = ", ".join(f":{n} as {types[o].name if o in types else o}" for n, o in declared)
        msg = f"{found.message} (with the declared parameter types: {sent})"
        return dataclasses.replace(found, code="param", message=msg)

    def _params(self, query: Query, pos: Positional, described: Described) -> list[Problem]:
        out = []
        for name, typ in described.params:
            if typ is not None and typ.oid == _UNKNOWN_OID:
                line = line_at(query, pos.first_use[query.params.index(name)])
                msg = f"parameter :{name} has no type; add a cast (:{name}::text)"
                out.append(problem(query, "param", msg, line=line, severity=Severity.WARNING))
        return out

    # -- prepare and describe ------------------------------------------------

    def _server_error(self, query: Query, pos: Positional, result: pq.abc.PGresult) -> Problem:
        diag = pq.DiagnosticField
        message = (result.error_field(diag.MESSAGE_PRIMARY) or b"").decode(errors="replace")
        where = result.error_field(diag.STATEMENT_POSITION)
        offset = pos.source_offset(int(where)) if where else _param_offset(pos, message)
        hint = result.error_field(diag.MESSAGE_HINT)
        if hint:
            message += f" (hint: {hint.decode(errors='replace')})"
        line = line_at(query, offset) if offset is not None else query.line
        return problem(query, "prepare", message, line=line)

    def _describe(self, query: Query, name: str) -> Described:
        desc = self.pg.describe_prepared(name.encode())
        param_oids = [desc.param_type(i) for i in range(desc.nparams)]
        col_oids = [desc.ftype(i) for i in range(desc.nfields)]
        types = load_types(self.conn, param_oids + col_oids)
        described = Described(query)
        described.params = [
            (p, types.get(param_oids[i])) for i, p in enumerate(query.params[: desc.nparams])
        ]
        for i in range(desc.nfields):
            fname = (desc.fname(i) or b"?").decode()
            origin, notnull = self.catalog.origin(desc.ftable(i), desc.ftablecol(i))
            described.columns.append(
                Column(fname, types.get(col_oids[i]), origin=origin, origin_notnull=notnull)
            )
        return described

    # -- result columns ------------------------------------------------------

    def _result(
        self, query: Query, pos: Positional, name: str, head: Header, described: Described
    ) -> list[Problem]:
        cols = described.columns
        if query.kind is Kind.EXEC:
            return _exec_columns(query, cols, head)
        if not cols:
            msg = f":{query.kind.value} but the statement returns no columns (use :exec)"
            return [problem(query, "columns", msg)]
        out = self._nulls(query, pos, name, head, described)
        if head.returns is None:
            what = "type" if query.kind is Kind.SCALAR else "model"
            msg = f"no {what} declared (add '-- @returns package.module:Name')"
            return [*out, problem(query, "no-model", msg, severity=Severity.WARNING)]
        try:
            described.returns = resolve_type(head.returns.value, self.names)
        except TypeExprError as exc:
            return [*out, problem(query, "returns", f"@returns: {exc}", line=head.returns.line)]
        if query.kind is Kind.SCALAR:
            return out + compare_scalar(query, described.returns, described.columns)
        return out + compare_row(query, described.returns, described.columns)

    def _nulls(
        self, query: Query, pos: Positional, name: str, head: Header, described: Described
    ) -> list[Problem]:
        out: list[Problem] = []
        nulls, issue = self._plan_nulls(pos, name, head, described)
        if issue:
            msg = f"cannot read the plan, NULLs not analysed: {issue}"
            out.append(problem(query, "plan", msg, severity=Severity.WARNING))
        names = {c.name for c in described.columns}
        for overrides, value, key in (
            (head.nullable, Null.NULLABLE, "nullable"),
            (head.notnull, Null.NOT_NULL, "notnull"),
        ):
            for col, line in overrides.items():
                if col in names:
                    nulls[col] = value
                else:
                    msg = f"@{key} {col}: the statement returns no column {col!r}"
                    out.append(problem(query, "directive", msg, line=line))
        described.columns = [
            dataclasses.replace(c, null=nulls.get(c.name, Null.UNKNOWN)) for c in described.columns
        ]
        return out

    def _plan_nulls(
        self, pos: Positional, name: str, head: Header, described: Described
    ) -> tuple[dict[str, Null], str | None]:
        plan, issue = self._plan(pos, name, len(described.params))
        if plan is None:
            return _origin_nulls(described), issue
        optional = [i + 1 for i, p in enumerate(pos.params) if p in head.optional_params]
        nulls = PlanNulls(plan, self.catalog.columns, len(described.params), optional)
        values = nulls.outputs(len(described.columns))
        return {c.name: v for c, v in zip(described.columns, values, strict=True)}, None

    def _plan(self, pos: Positional, name: str, nparams: int) -> tuple[Any, str | None]:
        """The generic plan: ``EXPLAIN (GENERIC_PLAN)`` of the text, else ``EXECUTE``.

        GENERIC_PLAN first, since ``EXECUTE name(NULL, ...)`` lets the executor
        prune every partition of a partitioned table for the NULL arguments.
        """
        args = "(" + ", ".join(["NULL"] * nparams) + ")" if nparams else ""
        attempts = [
            b"EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) " + pos.text.encode(),
            f"EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {name}{args}".encode(),
        ]
        issue = None
        for sql in attempts if nparams else attempts[1:]:
            try:
                row = self.conn.execute(sql).fetchone()
                return (row[0][0]["Plan"] if row else None), None
            except psycopg.Error as exc:
                self._recover()
                issue = str(exc).strip().splitlines()[0]
        return None, issue

    # -- COPY ----------------------------------------------------------------

    def _copy(self, query: Query) -> list[Problem]:
        """Start the COPY and abort it at once (the savepoint is rolled back after)."""
        result = self.pg.exec_(query.source.encode())
        if result.status == pq.ExecStatus.COPY_IN:
            self.pg.put_copy_end(b"pgrecall check")
            while self.pg.get_result() is not None:
                pass
            return []
        if result.status == pq.ExecStatus.FATAL_ERROR:
            return [self._server_error(query, _plain(query), result)]
        return [problem(query, "copy", ":copy must be COPY ... FROM STDIN")]


def _origin_nulls(described: Described) -> dict[str, Null]:
    """Without a plan: a NULL-able origin column is NULL-able, the rest unknown."""
    return {
        c.name: Null.NULLABLE if c.origin_notnull is False else Null.UNKNOWN
        for c in described.columns
    }


def _plain(query: Query) -> Positional:
    return Positional(query.source, (), (), (0,), (0,))


def _param_offset(pos: Positional, message: str) -> int | None:
    """``could not determine data type of parameter $2``: where ``$2`` is first used."""
    m = re.search(r"parameter \$(\d+)", message)
    if m and 0 < int(m.group(1)) <= len(pos.first_use):
        return pos.first_use[int(m.group(1)) - 1]
    return None


def _exec_columns(query: Query, cols: list[Column], head: Header) -> list[Problem]:
    """:exec returns a row count: RETURNING is wasted (a SELECT for its effect is fine)."""
    out = []
    if cols and _RETURNING.search(query.source):
        msg = f":exec discards the {len(cols)} column(s) of RETURNING (use :one or :many)"
        out.append(problem(query, "columns", msg, severity=Severity.WARNING))
    if head.returns is not None:
        msg = "@returns is ignored: :exec returns the row count"
        out.append(problem(query, "returns", msg, line=head.returns.line))
    return out
