# Generated from _base_async.py by tools/async_to_sync.py: do not edit.
"""What every area shares: the session's connection, tenant and queries."""

from __future__ import annotations

from ..query.db import DB
from ..query.named import Queries

__all__ = ["Area"]


class Area:
    """Base of an area: ``self.db`` runs queries, ``self.t`` is the tenant id."""

    def __init__(self, db: DB, tenant: str, queries: Queries) -> None:
        self.db = db
        self.t = tenant
        self.q = queries


