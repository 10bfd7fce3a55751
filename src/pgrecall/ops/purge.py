"""Delete every row of a tenant in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..areas.validate import check_tenant
from ..models.ops import TableCount
from ..query.citus import set_tenant
from ..query.named import Query
from .catalog import PurgeReport, _ident, tenant_tables
from .restore import _refuse_non_empty

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["purge_tenant"]

def purge_tenant(store: Store, tenant: str) -> PurgeReport:
    """Delete every row of ``tenant`` in one transaction; counts per table.

    Any role with DELETE on the tables will do (the tenant is set for row level
    security). Rows written by a concurrent transaction during the purge make it fail
    with :class:`ConflictError` (nothing is deleted); run it again.
    """
    tenant = check_tenant(tenant)
    with store.transaction() as db:
        q = store.queries
        set_tenant(db.conn, tenant)
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
