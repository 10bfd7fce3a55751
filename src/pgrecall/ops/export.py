"""A tenant's rows as JSON Lines, through server-side cursors in one snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .. import __version__
from ..areas.validate import check_tenant
from ..errors import NotFoundError
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

__all__ = ["Progress", "export_tenant"]

#: ``progress(table, rows)``: called as rows of ``table`` are written (``rows`` more).
Progress = Callable[[str, int], None]
_PROGRESS_EVERY = 1000


def _export_query(db: DB, table: TenantTable) -> Query:
    order = ", ".join(f"t.{_ident(db, c)}" for c in table.primary_key) or "1"
    text = (
        f"SELECT to_jsonb(t)::text AS line FROM pgrecall.{_ident(db, table.name)} AS t "
        f"WHERE t.tenant_id = :tenant_id ORDER BY {order}"
    )
    return Query.from_string(f"export_{table.name}", "many", text)


def _has_rows(db: DB, tables: Sequence[TenantTable], tenant: str) -> bool:
    if not tables:
        return False
    text = " OR ".join(
        f"EXISTS (SELECT FROM pgrecall.{_ident(db, t.name)} WHERE tenant_id = :tenant_id)"
        for t in tables
    )
    return bool(
        db.scalar(
            Query.from_string("export_has_rows", "scalar", f"SELECT {text}"), bool, tenant_id=tenant
        )
    )


def _lines(db: DB, table: TenantTable, tenant: str) -> Iterator[str]:
    for row in db.stream(_export_query(db, table), _Line, batch=2000, tenant_id=tenant):
        yield row.line


def export_tenant(
    store: Store,
    tenant: str,
    out: Path | str | TextIO,
    *,
    allow_empty: bool = True,
    progress: Progress | None = None,
) -> ExportReport:
    """Write every row of ``tenant`` as JSON Lines, at constant memory.

    ``out`` a directory path: ``<table>.jsonl`` per table (rows as JSON objects) and
    ``manifest.json``. ``out`` an open text stream: one line per row,
    ``{"table": ..., "row": {...}}``, tables in insert order (parents first).
    ``allow_empty=False``: a tenant without a single row (a misspelt name, most
    likely) raises :class:`~pgrecall.errors.NotFoundError` before anything is written.
    ``progress(table, rows)`` is told as rows are written (the CLI's progress bar).
    """
    tenant = check_tenant(tenant)
    directory = Path(out) if isinstance(out, (str, Path)) else None
    rows: dict[str, int] = {}
    with store.transaction() as db:
        q = store.queries
        db.execute(q.snapshot_transaction)
        set_tenant(db.conn, tenant)
        exported_at = datetime.now(UTC)
        order, _ = tenant_tables(db, q)
        if not allow_empty and not _has_rows(db, order, tenant):
            raise NotFoundError(
                f"tenant {tenant!r} has no rows: nothing exported (a misspelt tenant? "
                "allow_empty=True / --allow-empty exports an empty tenant)"
            )
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        for table in order:
            if directory is not None:
                with (directory / f"{table.name}.jsonl").open("w", encoding="utf-8") as f:
                    rows[table.name] = _write(
                        f, _lines(db, table, tenant), None, progress, table.name
                    )
            else:
                assert not isinstance(out, (str, Path))
                rows[table.name] = _write(
                    out, _lines(db, table, tenant), table.name, progress, table.name
                )
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


def _write(
    f: TextIO, lines: Iterator[str], table: str | None, progress: Progress | None, name: str
) -> int:
    n = 0
    head = None if table is None else f'{{"table": {json.dumps(table)}, "row": '
    for line in lines:
        f.write(line + "\n" if head is None else head + line + "}\n")
        n += 1
        if progress is not None and n % _PROGRESS_EVERY == 0:
            progress(name, _PROGRESS_EVERY)
    if progress is not None:
        progress(name, n % _PROGRESS_EVERY)
    return n
