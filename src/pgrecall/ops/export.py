"""A tenant's rows as JSON Lines, through server-side cursors in one snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .. import __version__
from ..areas.validate import check_tenant
from ..query.citus import set_tenant
from ..query.db import DB
from ..query.named import Query
from .catalog import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ExportReport,
    TenantTable,
    _ident,
    _Line,
    tenant_tables,
)

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["export_tenant"]

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
        set_tenant(db.conn, tenant)
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


