"""Migrations: yoyo applies the files; pgrecall closes the gaps yoyo 9 leaves.

The same ``sql/migrations`` files serve ``yoyo apply`` (with the repository's
``yoyo.ini``) and :func:`migrate`. On top of yoyo's Python API this module adds:

- a PostgreSQL advisory lock, held on its own connection for the whole run, instead
  of yoyo's lock row (which stays behind when a deploy is killed). yoyo's own
  connections run with ``client_connection_check_interval`` so that the server
  aborts the statement of a killed client within a second;
- a checksum ledger (``pgrecall_meta.migration_ledger``): an applied migration whose
  file (or rollback file) changed, an applied id missing on disk, or a new id that
  sorts before the last applied one is refused, naming the file. Migrations applied
  by plain ``yoyo apply`` are adopted into the ledger;
- :func:`lint`, run before every :func:`migrate`: ids ``NNNN_name``, a rollback file
  or an ``-- irreversible: <reason>`` header, and index builds on existing tables as
  ``CREATE INDEX CONCURRENTLY`` in a ``-- transactional: false`` file of their own;
- after applying, an INVALID index is an error whose message carries the fix;
- a dry run that prints the plan, and :func:`status` (applied, pending, drifted,
  missing).

A transactional migration, yoyo's bookkeeping row and the ledger row commit in one
transaction, so a run killed at any point leaves either all or none of them.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import random
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, LiteralString
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import yoyo
from psycopg.rows import class_row
from yoyo import exceptions as yoyo_errors

from ._lexer import LexError, Scanned, split_statements
from .errors import MigrationError, translate
from .resources import migrations_dir
from .settings import libpq_url, yoyo_url

__all__ = [
    "ID_PATTERN",
    "LEDGER_TABLE",
    "LOCK_KEYS",
    "LintProblem",
    "MigrationState",
    "Report",
    "checksum",
    "lint",
    "migrate",
    "rollback",
    "status",
]

logger = logging.getLogger("pgrecall.migrations")

ID_PATTERN = re.compile(r"^\d{4}_[a-z0-9_]+$")
LEDGER_TABLE = "pgrecall_meta.migration_ledger"
#: ``pg_advisory_lock(int4, int4)`` keys: 'pgrc', 'migr'. Per database.
LOCK_KEYS = (0x70677263, 0x6D696772)
ROLLBACK_SUFFIX = ".rollback.sql"
CHECK_INTERVAL = "1s"  # client_connection_check_interval on yoyo's connections
APPLICATION_NAME = "pgrecall migrate"

StateName = Literal["applied", "pending", "drifted", "missing"]


# -- public results -------------------------------------------------------------------


@dataclass(frozen=True)
class LintProblem:
    """One broken rule, at ``path:line``."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class MigrationState:
    """Where one migration stands in a database.

    ``applied``: recorded by yoyo and (when the ledger knows it) unchanged on disk;
    ``pending``: on disk, not applied; ``drifted``: applied, but the file or its
    rollback file changed since; ``missing``: applied, but no file on disk.
    """

    id: str
    state: StateName
    applied_at: datetime | None
    path: Path | None

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready form (``applied_at`` in ISO 8601)."""
        return {
            "id": self.id,
            "state": self.state,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "path": str(self.path) if self.path else None,
        }


@dataclass
class Report:
    """What a :func:`migrate` or :func:`rollback` run did (or, with ``dry_run``, would do).

    ``plan`` lists the migration ids in the order they run; ``summaries`` maps each to
    the first line of its leading comment. ``adopted`` are migrations applied by plain
    ``yoyo apply`` that were (or would be) recorded in the ledger.
    """

    applied: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    dry_run: bool = False
    summaries: dict[str, str] = field(default_factory=dict)
    action: Literal["migrate", "rollback"] = "migrate"

    def render(self) -> str:
        """Human-readable text, one migration per line."""
        lines = []
        if self.adopted:
            verb = "would adopt" if self.dry_run else "adopted"
            lines.append(f"{verb} (applied by yoyo apply): {', '.join(self.adopted)}")
        lines.extend(self._plan_lines())
        return "\n".join(lines)

    def _plan_lines(self) -> list[str]:
        verb = "apply" if self.action == "migrate" else "roll back"
        if not self.plan:
            return [f"nothing to {verb}"]
        done = "applied" if self.action == "migrate" else "rolled back"
        head = f"would {verb}" if self.dry_run else done
        lines = [f"{head} {len(self.plan)} migration(s):"]
        width = max(len(mid) for mid in self.plan)
        for mid in self.plan:
            lines.append(f"  {mid:<{width}}  {self.summaries.get(mid, '')}".rstrip())
        return lines

    def __str__(self) -> str:
        return self.render()


# -- files on disk ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    """The leading comment block, read the way yoyo reads it."""

    directives: dict[str, str]
    summary: str
    irreversible: str | None

    @property
    def transactional(self) -> bool:
        return self.directives.get("transactional", "true").strip().lower() != "false"


_HEADER_LINE = re.compile(r"^\s*(?:--.*)?$")
_DIRECTIVE = re.compile(r"^\s*--\s*(transactional|depends|irreversible)\s*:\s*(.*?)\s*$")


def _header(text: str) -> _Header:
    directives: dict[str, str] = {}
    comments: list[str] = []
    for line in text.splitlines():
        if not _HEADER_LINE.match(line):
            break
        if m := _DIRECTIVE.match(line):
            directives[m[1]] = f"{directives.get(m[1], '')} {m[2]}".strip()
        else:
            comments.append(line.strip().lstrip("-").strip())
    summary = next((c for c in comments if c), "")
    return _Header(directives, summary, directives.pop("irreversible", None))


@dataclass(frozen=True)
class _File:
    """A migration file and its rollback file."""

    id: str
    path: Path
    text: str
    rollback_path: Path | None
    rollback_text: str | None
    checksum: str
    header: _Header


def _normalised(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def _digest(main: bytes, rollback: bytes | None) -> str:
    digest = hashlib.sha256(_normalised(main))
    if rollback is not None:
        digest.update(b"\0rollback\0")
        digest.update(_normalised(rollback))
    return digest.hexdigest()


def _rollback_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".sql") + ROLLBACK_SUFFIX)


def checksum(path: Path) -> str:
    """sha256 of a migration file plus its rollback file (CRLF read as LF)."""
    rollback = _rollback_path(path)
    return _digest(path.read_bytes(), rollback.read_bytes() if rollback.is_file() else None)


def _read_file(path: Path) -> _File:
    main = path.read_bytes()
    rb_path = _rollback_path(path)
    rb = rb_path.read_bytes() if rb_path.is_file() else None
    text = main.decode("utf-8", errors="replace")
    return _File(
        id=path.name.removesuffix(".sql"),
        path=path,
        text=text,
        rollback_path=rb_path if rb is not None else None,
        rollback_text=rb.decode("utf-8", errors="replace") if rb is not None else None,
        checksum=_digest(main, rb),
        header=_header(text),
    )


def _source_dirs(sources: Sequence[Path] | None) -> list[Path]:
    dirs = [Path(s) for s in sources] if sources is not None else [migrations_dir()]
    for d in dirs:
        if not d.is_dir():
            raise MigrationError(f"migrations directory not found: {d}")
    return dirs


def _discover_dir(directory: Path) -> tuple[list[_File], list[LintProblem]]:
    files: list[_File] = []
    problems: list[LintProblem] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        if path.name.endswith(ROLLBACK_SUFFIX):
            main = path.with_name(path.name.removesuffix(ROLLBACK_SUFFIX) + ".sql")
            if not main.is_file():
                problems.append(LintProblem(path, 1, f"rollback file without {main.name}"))
        elif path.suffix == ".sql":
            files.append(_read_file(path))
        elif path.suffix == ".py":
            problems.append(
                LintProblem(path, 1, "Python migrations are not supported: use plain SQL")
            )
    return files, problems


def _all_files(dirs: Sequence[Path]) -> tuple[list[_File], list[LintProblem]]:
    files: list[_File] = []
    problems: list[LintProblem] = []
    for directory in dirs:
        found, dir_problems = _discover_dir(directory)
        files += found
        problems += dir_problems
    return files, problems


def _discover(dirs: Sequence[Path]) -> dict[str, _File]:
    """Migration files by id (the first wins on a duplicate id, which lint refuses)."""
    found: dict[str, _File] = {}
    for f in _all_files(dirs)[0]:
        found.setdefault(f.id, f)
    return found


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# -- lint -------------------------------------------------------------------------------

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
    index builds. Comments, strings and dollar-quoted bodies are not read as SQL.
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


# -- connections ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    conninfo: str  # libpq URL for pgrecall's own connections
    yoyo_uri: str  # postgresql+psycopg:// URL for yoyo's connections


def _options(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _target(url: str) -> _Target:
    """Normalise any accepted URL; yoyo's connections get the client check interval."""
    parts = urlsplit(libpq_url(url))
    args = dict(parse_qsl(parts.query, keep_blank_values=True))
    args.setdefault("application_name", APPLICATION_NAME)
    schema = args.pop("schema", None)  # a yoyo URL parameter (its search_path)
    options = args.pop("options", "")
    own = dict(args)
    if own_options := _options(options, f"-c search_path={schema}" if schema else ""):
        own["options"] = own_options
    theirs = dict(
        args, options=_options(options, f"-c client_connection_check_interval={CHECK_INTERVAL}")
    )
    if schema:
        theirs["schema"] = schema
    return _Target(
        conninfo=urlunsplit(parts._replace(query=urlencode(own, quote_via=quote))),
        yoyo_uri=yoyo_url(urlunsplit(parts._replace(query=urlencode(theirs, quote_via=quote)))),
    )


Conn = psycopg.Connection[tuple[Any, ...]]


def _connect(target: _Target) -> Conn:
    try:
        return psycopg.connect(target.conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise translate(exc) from exc


def _scalar(conn: Conn, query: LiteralString, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


# -- the advisory lock ------------------------------------------------------------------


@dataclass(frozen=True)
class _Holder:
    pid: int
    application_name: str | None
    usename: str | None
    backend_start: datetime | None
    state: str | None


def _try_lock(conn: Conn) -> bool:
    return bool(_scalar(conn, "SELECT pg_try_advisory_lock(%s::int4, %s::int4)", LOCK_KEYS))


def _unlock(conn: Conn) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s::int4, %s::int4)", LOCK_KEYS)


def _holder(conn: Conn) -> _Holder | None:
    with conn.cursor(row_factory=class_row(_Holder)) as cur:
        cur.execute(
            """
            SELECT l.pid, a.application_name, a.usename::text, a.backend_start, a.state
            FROM pg_locks AS l
            LEFT JOIN pg_stat_activity AS a USING (pid)
            WHERE l.locktype = 'advisory' AND l.granted
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = %s::int4::oid AND l.objid = %s::int4::oid AND l.objsubid = 2
            """,
            LOCK_KEYS,
        )
        return cur.fetchone()


def _lock_timeout_error(conn: Conn, timeout: float) -> MigrationError:
    holder = _holder(conn)
    if holder is None:
        return MigrationError(f"could not take the migration lock within {timeout:g} s")
    since = holder.backend_start.isoformat(timespec="seconds") if holder.backend_start else "?"
    return MigrationError(
        f"could not take the migration lock within {timeout:g} s: held by pid {holder.pid} "
        f"(application {holder.application_name!r}, user {holder.usename}, connected since "
        f"{since}, {holder.state}). Another migrate or rollback is running; if it is stuck, "
        f"end it with: SELECT pg_terminate_backend({holder.pid});"
    )


def _acquire(conn: Conn, timeout: float) -> None:
    """Poll ``pg_try_advisory_lock`` with capped, jittered backoff until ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while not _try_lock(conn):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _lock_timeout_error(conn, timeout)
        time.sleep(min(remaining, delay * random.uniform(0.5, 1.0)))
        delay = min(delay * 2, 1.0)


def _keep_session(conn: Conn) -> None:
    """The lock session idles for the whole run: no idle timeout; keepalives on TCP."""
    conn.execute(
        "SELECT set_config('idle_session_timeout', '0', false),"
        " set_config('tcp_keepalives_idle', '10', false),"
        " set_config('tcp_keepalives_interval', '5', false),"
        " set_config('tcp_keepalives_count', '3', false)"
    )


@contextmanager
def _locked(target: _Target, timeout: float) -> Iterator[Conn]:
    """A connection holding the migration advisory lock (session level) until exit."""
    conn = _connect(target)
    try:
        _keep_session(conn)
        _acquire(conn, timeout)
        yield conn
        _unlock(conn)
    finally:
        conn.close()  # ending the session releases the lock in any case


def _check_lock(conn: Conn, next_id: str) -> None:
    try:
        held = _scalar(
            conn,
            """
            SELECT EXISTS (
                SELECT FROM pg_locks
                WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted
                  AND classid = %s::int4::oid AND objid = %s::int4::oid AND objsubid = 2)
            """,
            LOCK_KEYS,
        )
    except psycopg.Error as exc:
        raise MigrationError(f"lost the migration lock connection before {next_id}") from exc
    if not held:
        raise MigrationError(f"lost the migration lock before {next_id}")


# -- database state: yoyo's table and the ledger ----------------------------------------


@dataclass(frozen=True)
class _LedgerRow:
    migration_id: str
    checksum: str
    applied_at: datetime
    adopted: bool


@dataclass(frozen=True)
class _DbState:
    applied: dict[str, datetime | None]  # yoyo's _yoyo_migration: the truth of "applied"
    ledger: dict[str, _LedgerRow]

    @property
    def last_applied(self) -> str | None:
        return max(self.applied, default=None)


def _exists(conn: Conn, relation: str) -> bool:
    return bool(_scalar(conn, "SELECT to_regclass(%s) IS NOT NULL", (relation,)))


def _yoyo_applied(conn: Conn) -> dict[str, datetime | None]:
    if not _exists(conn, "_yoyo_migration"):
        return {}
    rows = conn.execute("SELECT migration_id, applied_at_utc FROM _yoyo_migration").fetchall()
    return {mid: (at.replace(tzinfo=UTC) if at else None) for mid, at in rows}


def _ledger(conn: Conn) -> dict[str, _LedgerRow]:
    if not _exists(conn, LEDGER_TABLE):
        return {}
    with conn.cursor(row_factory=class_row(_LedgerRow)) as cur:
        cur.execute(
            "SELECT migration_id, checksum, applied_at, adopted FROM pgrecall_meta.migration_ledger"
        )
        return {row.migration_id: row for row in cur}


def _read_state(conn: Conn) -> _DbState:
    return _DbState(_yoyo_applied(conn), _ledger(conn))


_LEDGER_DDL = """
CREATE SCHEMA IF NOT EXISTS pgrecall_meta;
COMMENT ON SCHEMA pgrecall_meta IS
    'pgrecall bookkeeping (the migration checksum ledger); no application data.';
CREATE TABLE IF NOT EXISTS pgrecall_meta.migration_ledger (
    migration_id text        PRIMARY KEY,
    checksum     text        NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    adopted      boolean     NOT NULL DEFAULT false,
    applied_by   text        NOT NULL DEFAULT current_user
);
COMMENT ON TABLE pgrecall_meta.migration_ledger IS
    'One row per applied migration (yoyo''s _yoyo_migration says what is applied). '
    'pgrecall migrate refuses to run when an applied file no longer has this checksum.';
COMMENT ON COLUMN pgrecall_meta.migration_ledger.checksum IS
    'sha256 of NNNN_name.sql plus NNNN_name.rollback.sql as applied (CRLF read as LF).';
COMMENT ON COLUMN pgrecall_meta.migration_ledger.adopted IS
    'true: applied by plain yoyo apply and recorded later with the checksum of that day.'
"""

_LEDGER_UPSERT = """
INSERT INTO pgrecall_meta.migration_ledger (migration_id, checksum)
VALUES (%s, %s)
ON CONFLICT (migration_id) DO UPDATE
SET checksum = excluded.checksum, applied_at = now(), adopted = false,
    applied_by = current_user
"""

_LEDGER_ADOPT = """
INSERT INTO pgrecall_meta.migration_ledger (migration_id, checksum, applied_at, adopted)
VALUES (%s, %s, coalesce(%s, now()), true)
ON CONFLICT (migration_id) DO NOTHING
"""

_LEDGER_DELETE = "DELETE FROM pgrecall_meta.migration_ledger WHERE migration_id = %s"


def _ensure_ledger(conn: Conn) -> None:
    if not _exists(conn, LEDGER_TABLE):
        with conn.transaction():
            conn.execute(_LEDGER_DDL)


def _to_adopt(files: dict[str, _File], state: _DbState) -> list[str]:
    return sorted(m for m in state.applied if m in files and m not in state.ledger)


def _sync_ledger(conn: Conn, files: dict[str, _File], state: _DbState) -> list[str]:
    """Adopt what yoyo applied on its own; forget rows yoyo no longer has. Under the lock."""
    adopt = _to_adopt(files, state)
    stale = sorted(m for m in state.ledger if m not in state.applied)
    if not adopt and not stale:
        return []
    _ensure_ledger(conn)
    with conn.transaction():
        for mid in adopt:
            conn.execute(_LEDGER_ADOPT, (mid, files[mid].checksum, state.applied[mid]))
        for mid in stale:
            logger.info("ledger row %s dropped: yoyo no longer records it as applied", mid)
            conn.execute(_LEDGER_DELETE, (mid,))
    return adopt


# -- checks -----------------------------------------------------------------------------


def _when(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds") if at else "at an unknown time"


def _drift(mid: str, files: dict[str, _File], state: _DbState) -> str | None:
    f = files.get(mid)
    if f is None:
        return (
            f"applied migration {mid} is missing on disk: restore {mid}.sql "
            f"(applied {_when(state.applied.get(mid))}) to the migrations directory"
        )
    row = state.ledger.get(mid)
    if row is not None and row.checksum != f.checksum:
        return (
            f"{f.path} changed after it was applied on {_when(row.applied_at)} "
            f"(ledger sha256 {row.checksum[:12]}…, file {f.checksum[:12]}…): restore the "
            "applied version and put the change in a new migration"
        )
    return None


def _out_of_order(files: dict[str, _File], state: _DbState) -> list[str]:
    last = state.last_applied
    if last is None:
        return []
    return [
        f"{f.path} is new but sorts before the last applied migration {last}: "
        f"renumber it after {last}"
        for mid, f in sorted(files.items())
        if mid not in state.applied and mid < last
    ]


def _refuse(action: str, messages: list[str]) -> None:
    if messages:
        listing = "\n".join(f"  - {m}" for m in messages)
        raise MigrationError(f"refusing to {action}:\n{listing}")


def _verify(files: dict[str, _File], state: _DbState) -> None:
    drift = [d for mid in sorted(state.applied) if (d := _drift(mid, files, state))]
    _refuse("migrate", drift + _out_of_order(files, state))


@dataclass(frozen=True)
class _InvalidIndex:
    schema: str
    name: str
    table: str
    is_unique: bool


def _ident(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _invalid_indexes(conn: Conn) -> list[_InvalidIndex]:
    with conn.cursor(row_factory=class_row(_InvalidIndex)) as cur:
        cur.execute(
            """
            SELECT n.nspname::text AS schema, c.relname::text AS name,
                   t.relname::text AS "table", i.indisunique AS is_unique
            FROM pg_index AS i
            JOIN pg_class AS c ON c.oid = i.indexrelid
            JOIN pg_class AS t ON t.oid = i.indrelid
            JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE NOT i.indisvalid
              AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
              AND NOT EXISTS (SELECT FROM pg_stat_progress_create_index AS p
                              WHERE p.index_relid = i.indexrelid)
            ORDER BY 1, 2
            """
        )
        return cur.fetchall()


def _index_advice(ix: _InvalidIndex) -> str:
    name = f"{_ident(ix.schema)}.{_ident(ix.name)}"
    dupes = " (remove the duplicate rows first)" if ix.is_unique else ""
    return (
        f"index {name} on {_ident(ix.schema)}.{_ident(ix.table)} is INVALID (a failed or "
        f"interrupted CREATE INDEX CONCURRENTLY). Fix: REINDEX INDEX CONCURRENTLY {name};"
        f"{dupes} or DROP INDEX CONCURRENTLY {name}; and run migrate again"
    )


def _invalid_index_text(found: Sequence[_InvalidIndex]) -> str:
    return "".join(f"\n  - {_index_advice(ix)}" for ix in found)


def _refuse_invalid_indexes(conn: Conn, report: Report) -> None:
    found = _invalid_indexes(conn)
    if found:
        done = f"applied {', '.join(report.applied)}; " if report.applied else ""
        text = _invalid_index_text(found)
        raise MigrationError(f"{done}INVALID index(es) left in the database:{text}")


# -- running migrations with yoyo -------------------------------------------------------


@contextmanager
def _yoyo_backend(target: _Target) -> Iterator[Any]:
    """yoyo's backend, with its internal tables ready. Call only under the advisory lock."""
    try:
        backend = yoyo.get_backend(target.yoyo_uri)
    except psycopg.OperationalError as exc:
        raise translate(exc) from exc
    try:
        backend._is_locked = True  # the advisory lock serialises runs: no yoyo lock row
        backend.ensure_internal_schema_updated()
        yield backend
    finally:
        backend.connection.close()


def _yoyo_migrations(dirs: Sequence[Path]) -> dict[str, Any]:
    found = yoyo.read_migrations(*(glob.escape(str(d)) for d in dirs))
    return {m.id: m for m in found}


def _record(backend: Any, migration: Any, f: _File, direction: str) -> None:
    """yoyo's row, yoyo's log and the ledger row, in the caller's transaction."""
    if direction == "apply":
        backend.mark_one(migration, log=False)
        backend.connection.execute(_LEDGER_UPSERT, (migration.id, f.checksum))
    else:
        backend.unmark_one(migration, log=False)
        backend.connection.execute(_LEDGER_DELETE, (migration.id,))
    backend.log_migration(migration, direction)


def _run_one(backend: Any, migration: Any, f: _File, direction: str) -> None:
    """Apply or roll back one migration on a fresh yoyo connection.

    Transactional migrations commit together with their bookkeeping; non-transactional
    ones (index builds) run statement by statement, then record.
    """
    migration.load()
    with backend.copy() as conn_backend:
        conn_backend._internal_schema_updated = True
        if migration.use_transactions:
            with conn_backend.transaction():
                migration.process_steps(conn_backend, direction)
                _record(conn_backend, migration, f, direction)
        else:
            migration.process_steps(conn_backend, direction)
            with conn_backend.transaction():
                _record(conn_backend, migration, f, direction)


def _failure(conn: Conn, report: Report, f: _File, exc: Exception) -> MigrationError:
    verb = "apply" if report.action == "migrate" else "roll back"
    done = report.applied if report.action == "migrate" else report.rolled_back
    sqlstate = exc.sqlstate if isinstance(exc, psycopg.Error) else None
    detail = str(exc).strip() or type(exc).__name__
    if not f.header.transactional:
        detail += " (non-transactional: statements before the failing one stay applied)"
    before = f"; done before it: {', '.join(done)}" if done else ""
    try:
        invalid = _invalid_index_text(_invalid_indexes(conn))
    except psycopg.Error:  # the lock connection broke too: report the original error
        invalid = ""
    return MigrationError(
        f"could not {verb} {f.id} ({f.path}): {detail}{before}{invalid}", sqlstate=sqlstate
    )


def _run(
    backend: Any, conn: Conn, report: Report, files: dict[str, _File], dirs: Sequence[Path]
) -> None:
    direction = "apply" if report.action == "migrate" else "rollback"
    done = report.applied if report.action == "migrate" else report.rolled_back
    migrations = _yoyo_migrations(dirs)
    for mid in report.plan:
        _check_lock(conn, mid)
        try:
            _run_one(backend, migrations[mid], files[mid], direction)
        except (psycopg.Error, yoyo_errors.BadMigration) as exc:
            raise _failure(conn, report, files[mid], exc) from exc
        done.append(mid)


# -- public entry points ----------------------------------------------------------------


def _apply_plan(files: dict[str, _File], state: _DbState, dry_run: bool) -> Report:
    _verify(files, state)
    plan = sorted(m for m in files if m not in state.applied)
    return Report(
        adopted=_to_adopt(files, state),
        plan=plan,
        dry_run=dry_run,
        summaries={m: files[m].header.summary for m in plan},
    )


def migrate(
    url: str,
    *,
    sources: Sequence[Path] | None = None,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
) -> Report:
    """Apply pending migrations under the advisory lock; refuse on lint, drift or order.

    ``url``: ``postgres://``, ``postgresql://`` or ``postgresql+psycopg://``.
    ``sources``: migration directories (default: pgrecall's own). ``dry_run``: return
    the plan and change nothing. Raises :class:`~pgrecall.errors.MigrationError`.
    """
    dirs = _source_dirs(sources)
    _refuse_lint(dirs)
    files = _discover(dirs)
    target = _target(url)
    if dry_run:
        with _connect(target) as conn:
            return _apply_plan(files, _read_state(conn), dry_run=True)
    with _locked(target, lock_timeout) as conn, _yoyo_backend(target) as backend:
        state = _read_state(conn)
        report = _apply_plan(files, state, dry_run=False)
        _ensure_ledger(conn)
        _sync_ledger(conn, files, state)
        _run(backend, conn, report, files, dirs)
        _refuse_invalid_indexes(conn, report)
    return report


def _rollback_refusal(mid: str, files: dict[str, _File], state: _DbState) -> str | None:
    if problem := _drift(mid, files, state):
        return problem
    f = files[mid]
    if f.rollback_path is None:
        reason = f.header.irreversible or f"no {mid}{ROLLBACK_SUFFIX}"
        return f"{f.path} cannot be rolled back: {reason}"
    return None


def _rollback_plan(files: dict[str, _File], state: _DbState, count: int, dry_run: bool) -> Report:
    plan = sorted(state.applied, reverse=True)[:count]
    _refuse("roll back", [r for mid in plan if (r := _rollback_refusal(mid, files, state))])
    return Report(
        adopted=_to_adopt(files, state),
        plan=plan,
        dry_run=dry_run,
        summaries={m: files[m].header.summary for m in plan},
        action="rollback",
    )


def rollback(
    url: str,
    *,
    sources: Sequence[Path] | None = None,
    count: int = 1,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
) -> Report:
    """Roll back the ``count`` most recent migrations (highest ids first), under the lock.

    Refuses a migration without a rollback file (irreversible), one changed since it was
    applied, or one missing on disk. Removes the ledger rows of what it rolled back.
    """
    if count < 1:
        raise MigrationError(f"rollback count must be at least 1, not {count}")
    dirs = _source_dirs(sources)
    files = _discover(dirs)
    target = _target(url)
    if dry_run:
        with _connect(target) as conn:
            return _rollback_plan(files, _read_state(conn), count, dry_run=True)
    with _locked(target, lock_timeout) as conn, _yoyo_backend(target) as backend:
        state = _read_state(conn)
        report = _rollback_plan(files, state, count, dry_run=False)
        _ensure_ledger(conn)
        _sync_ledger(conn, files, state)
        _run(backend, conn, report, files, dirs)
    return report


def _state_of(mid: str, files: dict[str, _File], state: _DbState) -> MigrationState:
    f = files.get(mid)
    path = f.path if f else None
    if mid not in state.applied:
        return MigrationState(mid, "pending", None, path)
    row = state.ledger.get(mid)
    applied_at = row.applied_at if row else state.applied[mid]
    if f is None:
        return MigrationState(mid, "missing", applied_at, None)
    drifted = row is not None and row.checksum != f.checksum
    return MigrationState(mid, "drifted" if drifted else "applied", applied_at, path)


def _adopt_if_idle(conn: Conn, files: dict[str, _File], state: _DbState) -> _DbState:
    """Adopt yoyo-applied migrations, unless a run holds the lock (then it will)."""
    if not _to_adopt(files, state) or not _try_lock(conn):
        return state
    try:
        state = _read_state(conn)
        _sync_ledger(conn, files, state)
        return _read_state(conn)
    except psycopg.errors.InsufficientPrivilege as exc:
        logger.warning("status cannot adopt into the ledger: %s", exc)
        return state
    finally:
        _unlock(conn)


def status(url: str, *, sources: Sequence[Path] | None = None) -> list[MigrationState]:
    """Every migration on disk or applied, by id: applied / pending / drifted / missing.

    Migrations applied by plain ``yoyo apply`` are adopted into the ledger (when no
    migrate is running); otherwise nothing is written.
    """
    files = _discover(_source_dirs(sources))
    with _connect(_target(url)) as conn:
        state = _adopt_if_idle(conn, files, _read_state(conn))
    return [_state_of(mid, files, state) for mid in sorted(set(files) | set(state.applied))]
