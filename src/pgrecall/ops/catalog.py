"""What every operation shares: its reports and the tenant tables, found in the catalog."""

from __future__ import annotations

import re
from datetime import datetime
from graphlib import TopologicalSorter

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ..errors import PgRecallError
from ..models.core import Row
from ..query.db import DB
from ..query.named import Queries

__all__ = [
    "CleanupReport",
    "ExportReport",
    "ImportReport",
    "PurgeReport",
    "TenantTable",
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


