"""Operations: retention / cleanup, and a tenant's export, import and purge.

- :func:`cleanup` creates event partitions ahead, drops old ones, deletes expired
  cache entries and memories and purges long soft-deleted conversations.
- :func:`export_tenant` writes every row of a tenant as JSON Lines (one file per
  table plus ``manifest.json``, or one stream), through server-side cursors in one
  read-only snapshot: memory stays constant whatever the size.
- :func:`import_tenant` restores such an export into a tenant that has no rows.
- :func:`purge_tenant` deletes every row of a tenant in one transaction.
- :func:`bulk_load` loads many embeddings at index-build speed (the dimension's HNSW
  index dropped and built again concurrently around the load).

Tables are found in the catalog (every ``pgrecall`` table with a ``tenant_id``), so
tables added by later migrations are covered without a change here.
"""

from __future__ import annotations

from .bulk import bulk_load
from .catalog import (
    CleanupReport,
    ExportReport,
    ImportReport,
    PurgeReport,
    TenantTable,
    tenant_tables,
)
from .cleanup import cleanup
from .export import export_tenant
from .purge import purge_tenant
from .restore import import_tenant

__all__ = [
    "CleanupReport",
    "ExportReport",
    "ImportReport",
    "PurgeReport",
    "TenantTable",
    "bulk_load",
    "cleanup",
    "export_tenant",
    "import_tenant",
    "purge_tenant",
    "tenant_tables",
]
