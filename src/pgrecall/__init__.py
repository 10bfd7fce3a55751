"""pgrecall: the PostgreSQL data layer for LLM applications, in plain SQL.

import pgrecall
with pgrecall.connect(url) as store:
    with store.session(tenant="acme") as s:
        ...
"""

from __future__ import annotations

from .errors import (
    ConfigurationError,
    ConflictError,
    MigrationError,
    NotFoundError,
    PgRecallError,
    ReadOnlyError,
    TenantMissingError,
    TransientError,
    ValidationError,
)
from .models import NewEvent
from .query import DB, AsyncDB, Kind, Queries, Query, QueryError, load_queries
from .query.retry import retry
from .query.retry_async import retry_async
from .session import Session
from .session_async import AsyncSession
from .settings import Settings
from .store import Store, connect
from .store_async import AsyncStore, connect_async

__version__ = "0.1.0"

__all__ = [
    "DB",
    "AsyncDB",
    "AsyncSession",
    "AsyncStore",
    "ConfigurationError",
    "ConflictError",
    "Kind",
    "MigrationError",
    "NewEvent",
    "NotFoundError",
    "PgRecallError",
    "Queries",
    "Query",
    "QueryError",
    "ReadOnlyError",
    "Session",
    "Settings",
    "Store",
    "TenantMissingError",
    "TransientError",
    "ValidationError",
    "__version__",
    "connect",
    "connect_async",
    "load_queries",
    "retry",
    "retry_async",
]
