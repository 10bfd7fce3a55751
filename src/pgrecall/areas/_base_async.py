"""What every area shares: the session's connection, tenant and queries."""

from __future__ import annotations

from ..query.db_async import AsyncDB
from ..query.named import Queries

__all__ = ["AsyncArea"]


class AsyncArea:
    """Base of an area: ``self.db`` runs queries, ``self.t`` is the tenant id."""

    def __init__(self, db: AsyncDB, tenant: str, queries: Queries) -> None:
        self.db = db
        self.t = tenant
        self.q = queries


