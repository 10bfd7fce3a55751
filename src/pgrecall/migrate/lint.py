"""The migration lint: ids, rollback files, index builds on existing tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import MigrationError
from ..query.lexer import LexError, Scanned, split_statements
from .files import _all_files, _File, _line_of, _source_dirs
from .lint_tables import table_problems
from .report import ID_PATTERN, ROLLBACK_SUFFIX, LintProblem

__all__ = ["lint"]


_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QNAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}}"
_CREATE_INDEX_START = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I)
_CREATE_INDEX = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:(?!ON\b){_QNAME}\s+)?ON\s+(?:ONLY\s+)?(?P<table>{_QNAME})",
    re.I,
)
_CREATE_TABLE = re.compile(
    r"^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?"
    rf"(?:TABLE|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QNAME})",
    re.I,
)
# Statements PostgreSQL refuses inside a transaction block.
_NEEDS_NO_TRANSACTION = re.compile(
    r"^(?:CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b|DROP\s+INDEX\s+CONCURRENTLY\b"
    r"|REINDEX\b.*\bCONCURRENTLY\b|ALTER\s+TABLE\b.*\bDETACH\s+PARTITION\b.*\bCONCURRENTLY\b)",
    re.I,
)
# What a `-- transactional: false` migration may contain: index builds and their kin.
_INDEX_ONLY = re.compile(
    r"^(?:CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b|DROP\s+INDEX\s+CONCURRENTLY\b"
    r"|REINDEX\s+(?:\([^)]*\)\s*)?(?:INDEX|TABLE)\s+CONCURRENTLY\b|COMMENT\s+ON\s+INDEX\b)",
    re.I,
)
_NAME_PART = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')


def _qualified(name: str) -> tuple[str, ...]:
    return tuple(
        m[1].replace('""', '"') if m[1] is not None else m[2].lower()
        for m in _NAME_PART.finditer(name)
    )


def _created_here(created: set[tuple[str, ...]], table: tuple[str, ...]) -> bool:
    if table in created:
        return True
    return any(c[-1] == table[-1] and 1 in (len(c), len(table)) for c in created)


def _index_problem(stmt: Scanned, created: set[tuple[str, ...]]) -> str | None:
    if not _CREATE_INDEX_START.match(stmt.text):
        return None
    m = _CREATE_INDEX.match(stmt.text)
    if m is None:
        return "cannot read the table of this CREATE INDEX"
    if m["concurrently"] or _created_here(created, _qualified(m["table"])):
        return None
    return (
        f"CREATE INDEX on {m['table']}, a table this file does not create: use "
        "CREATE INDEX CONCURRENTLY in a `-- transactional: false` migration of its own"
    )


def _statement_problem(
    stmt: Scanned, created: set[tuple[str, ...]], transactional: bool
) -> str | None:
    if problem := _index_problem(stmt, created):
        return problem
    if transactional and _NEEDS_NO_TRANSACTION.match(stmt.text):
        return (
            "CONCURRENTLY cannot run inside a transaction: put it in a migration of its "
            "own with the header `-- transactional: false`"
        )
    if not transactional and not _INDEX_ONLY.match(stmt.text):
        return (
            "a `-- transactional: false` migration may only build indexes "
            "(CREATE / DROP / REINDEX ... CONCURRENTLY, COMMENT ON INDEX): "
            "move this statement to a transactional migration"
        )
    return None


def _lint_sql(path: Path, text: str, transactional: bool, main: bool) -> list[LintProblem]:
    try:
        stmts = split_statements(text)
    except LexError as exc:
        return [LintProblem(path, _line_of(text, exc.offset), str(exc))]
    created: set[tuple[str, ...]] = set()
    problems = []
    for stmt in stmts:
        if m := _CREATE_TABLE.match(stmt.text):
            created.add(_qualified(m["name"]))
        if problem := _statement_problem(stmt, created, transactional):
            problems.append(LintProblem(path, stmt.line, problem))
    if main and not stmts:
        problems.append(LintProblem(path, 1, "no SQL statements"))
    if main:
        problems += table_problems(path, stmts)
    return problems


def _lint_header(f: _File, ids: set[str]) -> list[LintProblem]:
    problems = []
    tx = f.header.directives.get("transactional", "true").strip().lower()
    if tx not in ("true", "false"):
        problems.append(LintProblem(f.path, 1, f"`-- transactional: {tx}`: use true or false"))
    if f.rollback_path is None and not f.header.irreversible:
        problems.append(
            LintProblem(
                f.path,
                1,
                f"no {f.id}{ROLLBACK_SUFFIX} and no `-- irreversible: <reason>` header",
            )
        )
    if f.rollback_path is not None and f.header.irreversible:
        problems.append(LintProblem(f.path, 1, f"says irreversible but has {f.rollback_path.name}"))
    for dep in f.header.directives.get("depends", "").split():
        if dep not in ids or dep >= f.id:
            problems.append(
                LintProblem(f.path, 1, f"depends on {dep}, which is not an earlier migration")
            )
    return problems


def _lint_file(f: _File, ids: set[str]) -> list[LintProblem]:
    problems = _lint_header(f, ids)
    transactional = f.header.transactional
    problems += _lint_sql(f.path, f.text, transactional, main=True)
    if f.rollback_path is not None and f.rollback_text is not None:
        problems += _lint_sql(f.rollback_path, f.rollback_text, transactional, main=False)
    return problems


def _lint_ids(files: Sequence[_File]) -> list[LintProblem]:
    problems = []
    numbers: dict[str, _File] = {}
    for f in files:
        if not ID_PATTERN.match(f.id):
            problems.append(
                LintProblem(
                    f.path,
                    1,
                    f"migration id {f.id!r} is not NNNN_name (4 digits, then lower-case "
                    "letters, digits and underscores)",
                )
            )
        number = f.id[:4]
        if number.isdigit() and number in numbers:
            problems.append(
                LintProblem(f.path, 1, f"number {number} is also used by {numbers[number].path}")
            )
        numbers.setdefault(number, f)
    return problems


def lint(sources: Sequence[Path] | None = None) -> list[LintProblem]:
    """Check migration files against the project's rules; ``[]`` when all is well.

    Rules: ids ``NNNN_name``, numbers unique; each migration has
    ``NNNN_name.rollback.sql`` or an ``-- irreversible: <reason>`` header line;
    ``CREATE INDEX`` on a table the file does not create is ``CONCURRENTLY``;
    ``CONCURRENTLY`` only in ``-- transactional: false`` files, which hold nothing but
    index builds; a table created in schema ``pgrecall`` has ``COMMENT ON TABLE``, and a
    tenant table RLS enabled, forced and a policy, in the same file (:mod:`.lint_tables`).
    Comments, strings and dollar-quoted bodies are not read as SQL.
    """
    files, problems = _all_files(_source_dirs(sources))
    problems += _lint_ids(files)
    ids = {f.id for f in files}
    for f in files:
        problems += _lint_file(f, ids)
    return sorted(problems, key=lambda p: (str(p.path), p.line))


def _refuse_lint(dirs: Sequence[Path]) -> None:
    problems = lint(dirs)
    if problems:
        listing = "\n".join(f"  {p}" for p in problems)
        raise MigrationError(
            f"refusing to migrate: {len(problems)} lint problem(s), nothing applied:\n{listing}"
        )


