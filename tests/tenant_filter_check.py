"""Helpers of the tenant-filter tests (no tests here): does a statement restrict every
tenant table it touches to ``:tenant_id``?

The statement is parsed by PostgreSQL's own parser (pglast) after ``:name`` parameters
are replaced by ``$n``. Then, scope by scope (each SELECT / UPDATE / DELETE, every CTE,
subquery and sub-select), the top-level conjuncts of ``WHERE`` and of the ``JOIN ... ON``
conditions are read for equalities between ``tenant_id`` columns and the ``:tenant_id``
parameter. A tenant table is restricted when its ``tenant_id`` is equal to the parameter
through a chain of such equalities, in its own scope or an enclosing one (a correlated
sub-select). An ``OR``, a ``NOT`` or a function around the predicate breaks the chain: that
is the point, ``(tenant_id = :tenant_id OR true)`` restricts nothing. An ``INSERT`` must put
the parameter (or a restricted ``tenant_id``) in its ``tenant_id`` column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.enums import BoolExprType, JoinType

from pgrecall.query.lexer import compile_sql

__all__ = ["Finding", "check_statement", "positional"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TENANT = "tenant_id"


def positional(source: str) -> tuple[str, dict[str, int]]:
    """``source`` with ``:name`` parameters as ``$n`` (the query lexer finds them), and the
    number of each name."""
    stmt = compile_sql(source)
    numbers = {name: i + 1 for i, name in enumerate(stmt.params)}
    out, last = [], 0
    for offset in stmt.param_offsets:
        m = _IDENT.match(source, offset + 1)
        assert m is not None
        out += [source[last:offset], f"${numbers[m.group(0)]}"]
        last = m.end()
    out.append(source[last:])
    return "".join(out), numbers


@dataclass(frozen=True)
class Finding:
    table: str
    reason: str

    def __str__(self) -> str:
        return f"pgrecall.{self.table}: {self.reason}"


@dataclass(eq=False)
class _Rel:
    """One reference to a relation in a FROM list (or the target of a write)."""

    name: str  # table name, CTE name or subquery alias
    alias: str
    tenant: bool  # a tenant table of schema pgrecall


@dataclass(eq=False)
class _Scope:
    parent: _Scope | None
    rels: list[_Rel] = field(default_factory=list)
    pairs: list[tuple[object, object]] = field(default_factory=list)  # equal terms
    # relation -> pairs that restrict only it (the ON of the join that makes it nullable)
    own: dict[_Rel, list[tuple[object, object]]] = field(default_factory=dict)

    def resolve(self, fields: tuple[str, ...]) -> object | None:
        """The term of a ``tenant_id`` column reference: (relation, 'tenant_id')."""
        if not fields or fields[-1] != _TENANT:
            return None
        scope: _Scope | None = self
        while scope is not None:
            if len(fields) == 1:
                if scope.rels:  # unqualified: the first relation that can have it
                    rels = [r for r in scope.rels if r.tenant] or scope.rels
                    return (rels[0], _TENANT)
            else:
                for r in scope.rels:
                    if r.alias == fields[-2]:
                        return (r, _TENANT)
            scope = scope.parent
        return None


class _Union:
    def __init__(self) -> None:
        self.up: dict[object, object] = {}

    def find(self, x: object) -> object:
        while self.up.get(x, x) != x:
            x = self.up[x]
        return x

    def join(self, a: object, b: object) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.up[ra] = rb


def _conjuncts(node: object) -> Iterator[object]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for a in node.args or ():
            yield from _conjuncts(a)
    elif node is not None:
        yield node


def _strip(node: object) -> object:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


class _Checker:
    def __init__(self, tenant_tables: Iterable[str], param: int | None) -> None:
        self.tables = set(tenant_tables)
        self.param = ("param", param)
        self.findings: list[Finding] = []
        self.ctes: set[str] = set()

    # terms ------------------------------------------------------------------------
    def term(self, scope: _Scope, node: object) -> object | None:
        node = _strip(node)
        if isinstance(node, ast.ParamRef):
            return ("param", node.number)
        if isinstance(node, ast.ColumnRef):
            fields = tuple(f.sval or "" for f in node.fields or () if isinstance(f, ast.String))
            return scope.resolve(fields)
        return None

    def equalities(self, scope: _Scope, where: object) -> list[tuple[object, object]]:
        pairs = []
        for c in _conjuncts(where):
            if (
                isinstance(c, ast.A_Expr)
                and c.kind == 0  # AEXPR_OP
                and [n.sval for n in c.name or ()] == ["="]
            ):
                a, b = self.term(scope, c.lexpr), self.term(scope, c.rexpr)
                if a is not None and b is not None:
                    pairs.append((a, b))
        return pairs

    def restricted(self, scope: _Scope, rel: _Rel) -> bool:
        u = _Union()
        s: _Scope | None = scope
        while s is not None:
            for a, b in s.pairs:
                u.join(a, b)
            s = s.parent
        for a, b in scope.own.get(rel, ()):
            u.join(a, b)
        return bool(u.find((rel, _TENANT)) == u.find(self.param))

    # statements ----------------------------------------------------------------------
    def statement(self, node: object, parent: _Scope | None) -> None:
        if isinstance(node, ast.SelectStmt):
            self.select(node, parent)
        elif isinstance(node, ast.InsertStmt):
            self.insert(node, parent)
        elif isinstance(node, ast.UpdateStmt):
            self.write(node, parent, node.relation, node.fromClause, node.whereClause)
        elif isinstance(node, ast.DeleteStmt):
            self.write(node, parent, node.relation, node.usingClause, node.whereClause)
        elif node is not None:
            self.expressions(node, parent or _Scope(None))

    def with_clause(self, w: ast.WithClause | None, parent: _Scope | None) -> None:
        for cte in (w.ctes if w else None) or ():
            assert isinstance(cte, ast.CommonTableExpr)
            self.ctes.add(cte.ctename or "")
            self.statement(cte.ctequery, parent)

    def select(self, node: ast.SelectStmt | None, parent: _Scope | None) -> None:
        if node is None:
            return
        self.with_clause(node.withClause, parent)
        if node.larg is not None or node.rarg is not None:  # UNION / INTERSECT / EXCEPT
            self.select(node.larg, parent)
            self.select(node.rarg, parent)
            return
        scope = _Scope(parent)
        for item in node.fromClause or ():
            self.from_item(scope, item, nullable=False)
        scope.pairs += self.equalities(scope, node.whereClause)
        self.finish(scope)
        for part in (node.targetList, node.whereClause, node.havingClause, node.valuesLists):
            self.expressions(part, scope)

    def write(
        self, node: object, parent: _Scope | None, relation: object, extra: object, where: object
    ) -> None:
        self.with_clause(getattr(node, "withClause", None), parent)
        scope = _Scope(parent)
        self.from_item(scope, relation, nullable=False)
        for item in extra or ():  # type: ignore[attr-defined]
            self.from_item(scope, item, nullable=False)
        scope.pairs += self.equalities(scope, where)
        self.finish(scope)
        for part in ("targetList", "whereClause", "returningList"):
            self.expressions(getattr(node, part, None), scope)

    def insert(self, node: ast.InsertStmt, parent: _Scope | None) -> None:
        self.with_clause(node.withClause, parent)
        rel = node.relation
        assert isinstance(rel, ast.RangeVar)
        name = rel.relname or ""
        cols = [t.name for t in node.cols or () if isinstance(t, ast.ResTarget)]
        sel = node.selectStmt
        if self.is_tenant(rel):
            if _TENANT not in cols:
                self.findings.append(Finding(name, "INSERT without a tenant_id column"))
            elif isinstance(sel, ast.SelectStmt):
                self.insert_source(name, cols.index(_TENANT), sel, parent)
        if sel is not None:
            self.statement(sel, parent)
        if node.onConflictClause is not None:  # updates the conflicting row of the same key
            scope = _Scope(parent)
            scope.rels.append(_Rel(name, (rel.alias.aliasname if rel.alias else name) or "", False))
            self.expressions(node.onConflictClause, scope)

    def insert_source(
        self, table: str, i: int, sel: ast.SelectStmt | None, parent: _Scope | None
    ) -> None:
        """The value the INSERT puts in tenant_id: the parameter, or a restricted column."""
        if sel is None:
            return
        if sel.valuesLists:
            for row in sel.valuesLists:
                if self.term(_Scope(parent), row[i]) != self.param:
                    self.findings.append(
                        Finding(table, "INSERT VALUES tenant_id is not :tenant_id")
                    )
            return
        if sel.larg is not None or sel.rarg is not None:
            self.insert_source(table, i, sel.larg, parent)
            self.insert_source(table, i, sel.rarg, parent)
            return
        scope = _Scope(parent)
        for item in sel.fromClause or ():
            self.from_item(scope, item, nullable=False, record=False)
        scope.pairs += self.equalities(scope, sel.whereClause)
        target = sel.targetList[i] if sel.targetList and i < len(sel.targetList) else None
        value = self.term(scope, target.val if isinstance(target, ast.ResTarget) else None)
        u = _Union()
        s: _Scope | None = scope
        while s is not None:
            for a, b in s.pairs:
                u.join(a, b)
            s = s.parent
        if value is None or u.find(value) != u.find(self.param):
            self.findings.append(Finding(table, "INSERT ... SELECT tenant_id is not :tenant_id"))

    # FROM items ------------------------------------------------------------------------
    def is_tenant(self, rv: ast.RangeVar) -> bool:
        return rv.schemaname == "pgrecall" and rv.relname in self.tables

    def from_item(
        self, scope: _Scope, item: object, *, nullable: bool, record: bool = True
    ) -> list[_Rel]:
        if isinstance(item, ast.RangeVar):
            alias = item.alias.aliasname if item.alias else item.relname
            rel = _Rel(item.relname or "", alias or "", self.is_tenant(item))
            scope.rels.append(rel)
            return [rel]
        if isinstance(item, ast.RangeSubselect):
            if record:
                self.statement(item.subquery, scope if item.lateral else scope.parent)
            rel = _Rel("(subquery)", (item.alias.aliasname if item.alias else "") or "", False)
            scope.rels.append(rel)
            return [rel]
        if isinstance(item, ast.RangeFunction):
            if record:
                self.expressions(item.functions, scope)
            rel = _Rel("(function)", (item.alias.aliasname if item.alias else "") or "", False)
            scope.rels.append(rel)
            return [rel]
        if isinstance(item, ast.JoinExpr):
            left = self.from_item(scope, item.larg, nullable=nullable, record=record)
            right = self.from_item(scope, item.rarg, nullable=nullable, record=record)
            pairs = self.equalities(scope, item.quals)
            if record:
                self.expressions(item.quals, scope)
            if item.jointype == JoinType.JOIN_INNER:
                scope.pairs += pairs
            elif item.jointype == JoinType.JOIN_LEFT:
                for r in right:  # the ON restricts the rows of the nullable side only
                    scope.own.setdefault(r, []).extend(pairs)
            elif item.jointype == JoinType.JOIN_RIGHT:
                for r in left:
                    scope.own.setdefault(r, []).extend(pairs)
            return left + right
        raise AssertionError(f"unexpected FROM item {item!r}")

    def finish(self, scope: _Scope) -> None:
        for rel in scope.rels:
            if rel.tenant and not self.restricted(scope, rel):
                self.findings.append(
                    Finding(rel.name, f"{rel.alias}.tenant_id is not restricted to :tenant_id")
                )

    # expressions: find the statements nested in them ----------------------------------
    def expressions(self, node: object, scope: _Scope) -> None:
        if node is None:
            return
        if isinstance(node, (list, tuple)):
            for n in node:
                self.expressions(n, scope)
            return
        if isinstance(node, ast.SubLink):
            self.statement(node.subselect, scope)
            return
        if isinstance(node, (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)):
            self.statement(node, scope)
            return
        if isinstance(node, ast.Node):
            for name in node.__slots__:  # type: ignore[attr-defined]
                self.expressions(getattr(node, name, None), scope)


def check_statement(source: str, tenant_tables: Iterable[str]) -> list[Finding]:
    """What in ``source`` (a named query's SQL, ``:name`` parameters) is not restricted to
    its ``:tenant_id`` parameter; ``[]`` when every tenant table it touches is."""
    text, numbers = positional(source)
    checker = _Checker(tenant_tables, numbers.get(_TENANT))
    for raw in parse_sql(text):
        checker.statement(raw.stmt, None)
    if numbers.get(_TENANT) is None and checker.findings:
        return [
            Finding(f.table, f.reason + " (the query has no :tenant_id)") for f in checker.findings
        ]
    return checker.findings
