"""Transaction settings that reach Citus workers.

pgrecall sets the tenant (row level security) and the HNSW search knobs per
transaction. On a single server that is ``set_config(name, value, true)``: a prepared
statement with parameters. Citus never sends ``set_config`` to its workers, where the
shards are (and where row level security and the index scans run); it does send
``SET LOCAL`` when ``citus.propagate_set_commands = 'local'``. So on a connection to a
Citus coordinator (marked once, by the pool's configure callback) the same settings
go as ``SET LOCAL name = '<literal>'`` -- still transaction-local, still pipelined
with ``BEGIN`` in one round trip. A single server keeps the prepared ``set_config``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from psycopg import sql

__all__ = [
    "CITUS_PROBE",
    "TENANT_SETTING",
    "bulk_insert",
    "is_citus",
    "mark_citus",
    "set_local",
    "set_tenant",
    "tenant_setting",
    "values_batches",
    "vector_settings",
]

TENANT_SETTING = "pgrecall.tenant_id"
SET_TENANT = "SELECT set_config(%s, %s, true)"

#: One query per new connection: a row (and the session setting made) only on Citus.
#: ``set_config(..., false)`` is session-level: the callback commits it.
CITUS_PROBE = (
    "SELECT set_config('citus.propagate_set_commands', 'local', false) "
    "FROM pg_extension WHERE extname = 'citus'"
)

_CITUS: weakref.WeakSet[Any] = weakref.WeakSet()


def mark_citus(conn: Any) -> None:
    """Remember that ``conn`` talks to a Citus node (called by the configure callback)."""
    _CITUS.add(conn)


def is_citus(conn: Any) -> bool:
    return conn in _CITUS


def set_local(name: str, value: str) -> sql.Composed:
    """``SET LOCAL name = 'value'`` (``name`` is pgrecall's own, ``value`` a quoted literal)."""
    return sql.SQL("SET LOCAL {} = {}").format(sql.SQL(name), sql.Literal(value))


def tenant_setting(conn: Any, tenant: str) -> tuple[str | sql.Composed, tuple[str, str] | None]:
    """The statement (and parameters) that set the transaction's tenant on ``conn``.

    Parameters mean "prepare it" (the single-server form, one plan for every tenant);
    ``None`` is the Citus form, a literal that is not worth preparing.
    """
    if is_citus(conn):
        return set_local(TENANT_SETTING, tenant), None
    return SET_TENANT, (TENANT_SETTING, tenant)


def vector_settings(
    conn: Any, query: Any, params: Mapping[str, int]
) -> list[tuple[str | sql.Composed, Any]]:
    """The HNSW knobs: the named ``set_vector_search`` query, or its ``SET LOCAL`` twins."""
    if not is_citus(conn):
        return [(query.sql, query.bind(params))]
    return [
        (set_local("hnsw.iterative_scan", "relaxed_order"), None),
        (set_local("hnsw.ef_search", str(int(params["ef_search"]))), None),
        (set_local("hnsw.max_scan_tuples", str(int(params["max_scan_tuples"]))), None),
        (set_local("plan_cache_mode", "force_custom_plan"), None),
    ]


def set_tenant(conn: Any, tenant: str) -> None:
    """Set the transaction's tenant on a sync connection (operations: purge, export ...)."""
    setting, args = tenant_setting(conn, tenant)
    conn.execute(setting, args, prepare=args is not None)


def values_batches(
    head: sql.Composable,
    row: sql.Composable,
    rows: Sequence[Sequence[Any]],
    tail: sql.Composable | None = None,
    *,
    max_params: int = 30_000,
) -> Iterator[tuple[sql.Composed, list[Any]]]:
    """Bulk insert as multi-row ``INSERT ... VALUES`` statements (the Citus bulk path).

    On Citus, ``INSERT ... SELECT`` from a temporary stage (or from ``unnest``) is run
    as a COPY into the shards, which row level security refuses; a multi-row VALUES
    insert of one tenant goes to its shard as an INSERT, which the policy checks.
    ``row`` is the template of one row (``%s`` placeholders, casts); batches stay under
    ``max_params`` parameters (the protocol allows 65535).
    """
    if not rows:
        return
    per = max(1, max_params // max(1, len(rows[0])))
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        values = sql.SQL(", ").join([row] * len(chunk))
        parts = [head, sql.SQL(" VALUES "), values]
        stmt = sql.Composed(parts if tail is None else [*parts, sql.SQL(" "), tail])
        yield stmt, [v for r in chunk for v in r]


# The Citus bulk paths of s.embeddings.add_many and s.events.log_many: the columns and
# defaults of insert_embedding_stage / upsert_embedding_stage / flush_event_stage, as
# VALUES rows (tenant first, then the stage's columns in order).
_BULK: dict[str, tuple[str, str, str | None]] = {
    "embeddings": (
        "INSERT INTO pgrecall.embeddings AS e (tenant_id, id, document_id, analysis_id, "
        "memory_id, chunk_index, content, embedding, model, dimensions, source)",
        "(%s, %s::uuid, %s::uuid, %s::uuid, %s::uuid, %s::integer, %s, %s::vector, %s, "
        "%s::integer, %s::jsonb)",
        "ON CONFLICT (tenant_id, id) DO UPDATE SET document_id = EXCLUDED.document_id, "
        "analysis_id = EXCLUDED.analysis_id, memory_id = EXCLUDED.memory_id, "
        "chunk_index = EXCLUDED.chunk_index, content = EXCLUDED.content, "
        "embedding = EXCLUDED.embedding, model = EXCLUDED.model, "
        "dimensions = EXCLUDED.dimensions, source = EXCLUDED.source",
    ),
    "events": (
        "INSERT INTO pgrecall.events (tenant_id, occurred_at, type, service, level, message, "
        "details, request_id, conversation_id, user_id, run_id, duration_ms)",
        "(%s, coalesce(%s::timestamptz, now()), %s, %s, coalesce(%s, 'info'), %s, "
        "coalesce(%s::jsonb, '{}'), %s, %s::uuid, %s, %s::uuid, %s::integer)",
        None,
    ),
}


def bulk_insert(
    table: str, tenant: str, rows: Sequence[Sequence[Any]], *, upsert: bool = False
) -> Iterator[tuple[sql.Composed, list[Any]]]:
    """The multi-row INSERTs that load ``rows`` (stage column order) into ``table``."""
    head, row, conflict = _BULK[table]
    tail = sql.SQL(conflict) if upsert and conflict else None
    tagged = [(tenant, *r) for r in rows]
    return values_batches(sql.SQL(head), sql.SQL(row), tagged, tail)
