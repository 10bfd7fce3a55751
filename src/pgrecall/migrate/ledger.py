"""Database state: yoyo's table, the checksum ledger, drift and INVALID indexes."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg.rows import class_row

from ..errors import MigrationError
from .files import _File
from .lock import Conn, _scalar
from .report import LEDGER_TABLE, Report, logger

__all__: list[str] = []


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
        return cur.fetchall() + _citus_invalid_indexes(conn)


# On Citus the shards' indexes live on the workers: a failed CREATE INDEX CONCURRENTLY
# can leave a shard's index INVALID while the coordinator's looks fine.
_WORKER_INVALID = """
SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, t.relname, i.indisunique)), '[]')
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
"""


def _citus_invalid_indexes(conn: Conn) -> list[_InvalidIndex]:
    """INVALID shard indexes on the Citus workers, named as their distributed index."""
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone() is None:
        return []
    found: dict[tuple[str, str], _InvalidIndex] = {}
    for host, port, ok, result in conn.execute(
        "SELECT nodename, nodeport, success, result FROM run_command_on_workers(%s)",
        (_WORKER_INVALID,),
    ).fetchall():
        if not ok:
            raise MigrationError(f"cannot read the indexes of Citus worker {host}:{port}: {result}")
        for schema, name, table, unique in json.loads(result):
            shardless = re.sub(r"_[0-9]+$", "", name), re.sub(r"_[0-9]+$", "", table)
            found[schema, shardless[0]] = _InvalidIndex(schema, *shardless, bool(unique))
    return list(found.values())


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
