"""Restore an export into a tenant that has no rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..areas.validate import check_tenant
from ..errors import ConfigurationError, ConflictError, PgRecallError, ValidationError
from ..models.ops import TableCount
from ..query.citus import set_tenant
from ..query.db import DB
from ..query.named import Queries, Query
from .catalog import (
    _IMPORT_BATCH,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ImportReport,
    TenantTable,
    _ident,
    tenant_tables,
)

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["import_tenant"]

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
        try:
            files = [(t["name"], _inside(directory, t["file"])) for t in manifest["tables"]]
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"{directory}: malformed manifest ({exc!r})") from exc
        return manifest.get("tenant"), _from_files(files)
    return None, _from_stream(src)


def _inside(directory: Path, name: object) -> Path:
    """A file the manifest names, refused unless it is inside the export directory
    (no absolute path, no ``..``, no symbolic link out of it)."""
    if not isinstance(name, str) or not name or Path(name).is_absolute():
        raise ValidationError(f"{directory}: manifest file {name!r} is outside the export")
    path = directory / name
    if not path.resolve().is_relative_to(directory.resolve()):
        raise ValidationError(f"{directory}: manifest file {name!r} is outside the export")
    return path


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
    store: Store,
    src: Path | str | TextIO,
    *,
    tenant: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Restore an export into ``tenant`` (default: the exported tenant), which must have
    no rows; one transaction. Reports the rows inserted per table.

    Rows come back exactly as exported: triggers and foreign-key checks are off for
    the transaction (``session_replication_role = replica``), which needs a superuser
    or ``GRANT SET ON PARAMETER session_replication_role``. ``progress(table, rows)``
    is told after each batch of rows is inserted (the CLI's progress bar).
    """
    exported_tenant, pairs = _read_export(src)
    target = tenant or exported_tenant
    if target is None:
        raise ValidationError("which tenant? (a stream export does not name one: pass tenant)")
    target = check_tenant(target)
    counts: dict[str, int] = {}
    with store.transaction() as db:
        q = store.queries
        set_tenant(db.conn, target)
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
            if progress is not None:
                progress(table, batch[1])
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


