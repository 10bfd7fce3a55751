"""The query layer: named SQL statements, loaded and validated, run over psycopg.

``lexer`` (SQL tokens: parameters, strings, comments), ``named`` (``-- name:`` files ->
:class:`Query`), ``db_async`` / ``db`` (the runner that binds parameters and maps rows to
models), ``resources`` (where the project's SQL lives), ``retry_async`` / ``retry``
(bounded backoff on transient errors) and ``blocking`` (the sync/async primitives).
"""

from __future__ import annotations

from .db import DB
from .db_async import AsyncDB
from .named import Kind, Queries, Query, QueryError, load_queries

__all__ = ["DB", "AsyncDB", "Kind", "Queries", "Query", "QueryError", "load_queries"]
