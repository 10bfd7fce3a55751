"""Operations: retention / cleanup, and a tenant's export, import and purge.

- :func:`cleanup` creates event partitions ahead, drops old ones, deletes expired
  cache entries and memories and purges long soft-deleted conversations.
- :func:`export_tenant` writes every row of a tenant as JSON Lines (one file per
  table plus ``manifest.json``, or one stream), through server-side cursors in one
  read-only snapshot: memory stays constant whatever the size.
- :func:`import_tenant` restores such an export into a tenant that has no rows.
- :func:`purge_tenant` deletes every row of a tenant in one transaction.

Tables are found in the catalog (every ``pgrecall`` table with a ``tenant_id``), so
tables added by later migrations are covered without a change here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TextIO

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from . import __version__
from ._db import DB
from .errors import ConfigurationError, ConflictError, PgRecallError, ValidationError
from .models import Row
from .models_ops import EventPartition, PartitionName, TableCount
from .queries import Queries, Query
from .session import check_tenant
from .store import Store

__all__ = [
    "CleanupReport",
    "ExportReport",
    "ImportReport",
    "PurgeReport",
    "TenantTable",
    "cleanup",
    "export_tenant",
    "import_tenant",
    "purge_tenant",
    "tenant_tables",
]

FORMAT = "pgrecall-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_IMPORT_BATCH = 1000
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CleanupReport(_Report):
    """What :func:`cleanup` did; ``tenant`` is ``None`` for all tenants."""

    tenant: str | None
    partitions_created: list[str]
    partitions_dropped: dict[str, int]  # partition -> rows it held
    events_deleted_from_default: int
    cache_entries_expired: int
    conversations_purged: int
    memories_expired: int


class ExportReport(_Report):
    tenant: str
    exported_at: datetime
    rows: dict[str, int]  # table -> rows written


class ImportReport(_Report):
    tenant: str
    rows: dict[str, int]  # table -> rows inserted


class PurgeReport(_Report):
    tenant: str
    rows: dict[str, int]  # table -> rows deleted (cascaded ones under their own table)


class TenantTable(Row):
    name: str
    primary_key: list[str]
    columns: list[str]


class _Link(Row):
    child: str
    parent: str
    on_delete: str


class _Line(Row):
    line: str


# -- the catalog ------------------------------------------------------------------------


def tenant_tables(db: DB, q: Queries) -> tuple[list[TenantTable], list[TenantTable]]:
    """The tenant tables in insert order (parents first) and in purge order.

    Purge order puts a parent before its children when the foreign key cascades (the
    cascade then removes append-only children such as messages, whose direct DELETE
    is refused) and a child before its parent otherwise (no action / restrict).
    """
    tables = {t.name: t for t in db.many(q.tenant_tables, TenantTable)}
    for name in tables:
        if not _NAME.match(name):
            raise PgRecallError(f"unexpected table name pgrecall.{name!r}")
    links = [k for k in db.many(q.tenant_table_links, _Link) if {k.child, k.parent} <= set(tables)]
    inserts: TopologicalSorter[str] = TopologicalSorter({t: () for t in tables})
    purges: TopologicalSorter[str] = TopologicalSorter({t: () for t in tables})
    for k in links:
        inserts.add(k.child, k.parent)
        if k.on_delete in ("c", "n", "d"):
            purges.add(k.child, k.parent)
        else:
            purges.add(k.parent, k.child)
    return [tables[n] for n in _stable(inserts)], [tables[n] for n in _stable(purges)]


def _stable(graph: TopologicalSorter[str]) -> list[str]:
    """A topological order, alphabetical among the tables that are ready together."""
    graph.prepare()
    order: list[str] = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        order += ready
        graph.done(*ready)
    return order


def _ident(db: DB, name: str) -> str:
    return sql.Identifier(name).as_string(db.conn)


# -- cleanup ----------------------------------------------------------------------------


def cleanup(
    store: Store,
    *,
    tenant: str | None = None,
    events_days: int | None = 90,
    deleted_days: int | None = 30,
    ahead_days: int = 7,
) -> CleanupReport:
    """Retention in one call (run it daily, e.g. ``pgrecall cleanup`` from cron).

    Creates event partitions for the next ``ahead_days`` days, drops those older than
    ``events_days`` (``None`` keeps all), deletes expired cache entries and memories,
    and purges conversations soft-deleted more than ``deleted_days`` days ago
    (``None`` keeps them).

    Without ``tenant`` it works on every tenant: partitions are dropped whole (the
    table owner's job) and rows are deleted across tenants, which needs a role that
    bypasses row level security (superuser or BYPASSRLS): :class:`ConfigurationError`
    otherwise, before anything changes. With ``tenant``, only that tenant's rows go
    (any role with the table privileges will do) and no partition is dropped.
    """
    for value, what in ((events_days, "events_days"), (deleted_days, "deleted_days")):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ValidationError(f"{what} must be a whole number of days >= 0, or None")
    tenant = None if tenant is None else check_tenant(tenant)
    with store.transaction() as db:
        q = store.queries
        if tenant is None and not db.scalar(q.role_bypasses_rls, bool):
            raise ConfigurationError(
                "cleanup of every tenant needs a role that bypasses row level security "
                "(superuser or BYPASSRLS); pass a tenant to clean up one tenant"
            )
        if tenant is not None:
            db.execute(q.set_tenant, tenant_id=tenant)
        created = db.many(
            q.create_event_partitions,
            PartitionName,
            from_day=datetime.now(UTC).date(),
            days=ahead_days + 1,
        )
        dropped: list[EventPartition] = []
        if events_days is not None and tenant is None:  # partitions hold every tenant
            dropped = db.many(q.drop_event_partitions, EventPartition, keep_days=events_days)
        conversations = 0
        if deleted_days is not None:
            conversations = db.execute(
                q.cleanup_deleted_conversations, tenant_id=tenant, days=deleted_days
            )
        return CleanupReport(
            tenant=tenant,
            partitions_created=[p.name for p in created],
            partitions_dropped={p.name: p.row_count for p in dropped if p.day is not None},
            events_deleted_from_default=sum(p.row_count for p in dropped if p.day is None),
            cache_entries_expired=db.execute(q.cleanup_expired_cache, tenant_id=tenant),
            conversations_purged=conversations,
            memories_expired=db.execute(q.cleanup_expired_memories, tenant_id=tenant),
        )


# -- export -----------------------------------------------------------------------------


def _export_query(db: DB, table: TenantTable) -> Query:
    order = ", ".join(f"t.{_ident(db, c)}" for c in table.primary_key) or "1"
    text = (
        f"SELECT to_jsonb(t)::text AS line FROM pgrecall.{_ident(db, table.name)} AS t "
        f"WHERE t.tenant_id = :tenant_id ORDER BY {order}"
    )
    return Query.from_string(f"export_{table.name}", "many", text)


def _lines(db: DB, table: TenantTable, tenant: str) -> Iterator[str]:
    for row in db.stream(_export_query(db, table), _Line, batch=2000, tenant_id=tenant):
        yield row.line


def export_tenant(store: Store, tenant: str, out: Path | str | TextIO) -> ExportReport:
    """Write every row of ``tenant`` as JSON Lines, at constant memory.

    ``out`` a directory path: ``<table>.jsonl`` per table (rows as JSON objects) and
    ``manifest.json``. ``out`` an open text stream: one line per row,
    ``{"table": ..., "row": {...}}``, tables in insert order (parents first).
    """
    tenant = check_tenant(tenant)
    directory = Path(out) if isinstance(out, (str, Path)) else None
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with store.transaction() as db:
        q = store.queries
        db.execute(q.snapshot_transaction)
        db.execute(q.set_tenant, tenant_id=tenant)
        exported_at = datetime.now(UTC)
        order, _ = tenant_tables(db, q)
        for table in order:
            if directory is not None:
                with (directory / f"{table.name}.jsonl").open("w", encoding="utf-8") as f:
                    rows[table.name] = _write(f, _lines(db, table, tenant), None)
            else:
                assert not isinstance(out, (str, Path))
                rows[table.name] = _write(out, _lines(db, table, tenant), table.name)
    report = ExportReport(tenant=tenant, exported_at=exported_at, rows=rows)
    if directory is not None:
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "pgrecall": __version__,
            "tenant": tenant,
            "exported_at": exported_at.isoformat(),
            "tables": [{"name": t, "file": f"{t}.jsonl", "rows": n} for t, n in rows.items()],
        }
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return report


def _write(f: TextIO, lines: Iterator[str], table: str | None) -> int:
    n = 0
    head = None if table is None else f'{{"table": {json.dumps(table)}, "row": '
    for line in lines:
        f.write(line + "\n" if head is None else head + line + "}\n")
        n += 1
    return n


# -- import -----------------------------------------------------------------------------


def _read_export(src: Path | str | TextIO) -> tuple[str | None, Iterator[tuple[str, str]]]:
    """The exported tenant (when known) and the (table, row JSON) pairs of an export."""
    if isinstance(src, (str, Path)):
        directory = Path(src)
        try:
            manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError(f"{directory}: not a pgrecall export ({exc})") from exc
        if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
            raise ValidationError(f"{directory}: unknown export format {manifest.get('format')}")
        files = [(t["name"], directory / t["file"]) for t in manifest["tables"]]
        return manifest.get("tenant"), _from_files(files)
    return None, _from_stream(src)


def _from_files(files: list[tuple[str, Path]]) -> Iterator[tuple[str, str]]:
    for table, path in files:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield table, line.rstrip("\n")


def _from_stream(src: TextIO) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(src, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            yield item["table"], json.dumps(item["row"], ensure_ascii=False)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(f"line {number}: not an export line ({exc})") from exc


def _insert_query(db: DB, table: TenantTable) -> Query:
    cols = ", ".join(_ident(db, c) for c in table.columns)
    name = _ident(db, table.name)
    text = (
        f"INSERT INTO pgrecall.{name} (tenant_id, {cols}) OVERRIDING SYSTEM VALUE "
        f"SELECT :tenant_id, {cols} FROM jsonb_populate_recordset(NULL::pgrecall.{name}, "
        ":rows::jsonb)"
    )
    return Query.from_string(f"import_{table.name}", "exec", text)


def import_tenant(
    store: Store, src: Path | str | TextIO, *, tenant: str | None = None
) -> ImportReport:
    """Restore an export into ``tenant`` (default: the exported tenant), which must have
    no rows; one transaction. Reports the rows inserted per table.

    Rows come back exactly as exported: triggers and foreign-key checks are off for
    the transaction (``session_replication_role = replica``), which needs a superuser
    or ``GRANT SET ON PARAMETER session_replication_role``.
    """
    exported_tenant, pairs = _read_export(src)
    target = tenant or exported_tenant
    if target is None:
        raise ValidationError("which tenant? (a stream export does not name one: pass tenant)")
    target = check_tenant(target)
    counts: dict[str, int] = {}
    with store.transaction() as db:
        q = store.queries
        db.execute(q.set_tenant, tenant_id=target)
        _refuse_non_empty(db, q, target, "import into")
        try:
            db.execute(q.replica_mode)
        except PgRecallError as exc:
            raise ConfigurationError(
                "import needs a superuser or GRANT SET ON PARAMETER session_replication_role "
                f"(to restore rows with triggers off): {exc}"
            ) from exc
        tables = {t.name: t for t in tenant_tables(db, q)[0]}
        for table, batch in _batches(pairs):
            if table not in tables:
                raise ValidationError(f"the export has table {table!r}, the database has not")
            db.execute(_insert_query(db, tables[table]), tenant_id=target, rows=batch[0])
            counts[table] = counts.get(table, 0) + batch[1]
    return ImportReport(tenant=target, rows=counts)


def _batches(pairs: Iterator[tuple[str, str]]) -> Iterator[tuple[str, tuple[str, int]]]:
    """Consecutive rows of one table, as JSON arrays of at most ``_IMPORT_BATCH`` rows."""
    table: str | None = None
    rows: list[str] = []
    for name, row in pairs:
        if rows and (name != table or len(rows) >= _IMPORT_BATCH):
            assert table is not None
            yield table, ("[" + ",".join(rows) + "]", len(rows))
            rows = []
        table = name
        rows.append(row)
    if rows and table is not None:
        yield table, ("[" + ",".join(rows) + "]", len(rows))


def _refuse_non_empty(db: DB, q: Queries, tenant: str, action: str) -> None:
    found = {
        t.table_name: t.row_count
        for t in db.many(q.tenant_table_counts, TableCount, tenant_id=tenant)
    }
    busy = {t: n for t, n in found.items() if n}
    if busy:
        raise ConflictError(f"cannot {action} tenant {tenant!r}: it has rows {busy}")


# -- purge ------------------------------------------------------------------------------


def purge_tenant(store: Store, tenant: str) -> PurgeReport:
    """Delete every row of ``tenant`` in one transaction; counts per table.

    Any role with DELETE on the tables will do (the tenant is set for row level
    security). Rows written by a concurrent transaction during the purge make it fail
    with :class:`ConflictError` (nothing is deleted); run it again.
    """
    tenant = check_tenant(tenant)
    with store.transaction() as db:
        q = store.queries
        db.execute(q.set_tenant, tenant_id=tenant)
        before = {
            t.table_name: t.row_count
            for t in db.many(q.tenant_table_counts, TableCount, tenant_id=tenant)
        }
        _, order = tenant_tables(db, q)
        for table in order:
            text = f"DELETE FROM pgrecall.{_ident(db, table.name)} WHERE tenant_id = :tenant_id"
            db.execute(Query.from_string(f"purge_{table.name}", "exec", text), tenant_id=tenant)
        _refuse_non_empty(db, q, tenant, "finish purging")
    return PurgeReport(tenant=tenant, rows={t: n for t, n in before.items() if n})
