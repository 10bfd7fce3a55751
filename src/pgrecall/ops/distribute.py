"""Distribute the pgrecall tables on a Citus cluster (``pgrecall distribute``).

Every table of the ``pgrecall`` schema with a ``tenant_id`` becomes a hash-distributed
table on ``tenant_id``, all in one co-location group: a tenant's rows of every table
live in the same shard group, so the triggers (message sequence, analysis versions,
counters, unlink) and the foreign keys stay local to a shard. Tables of the schema
without a ``tenant_id`` (none today; shared lookup data a later migration may add)
become reference tables, copied to every node. The migration ledger stays a plain
table on the coordinator, where migrations run.

Idempotent: tables already distributed on ``tenant_id`` are skipped, so run it again
after ``pgrecall migrate`` adds a table. The partitioned ``events`` table is distributed
through its parent (Citus distributes each partition with it, and partitions attached
later with it too).

The SQL lives here rather than in ``sql/queries``: it reads Citus's catalog
(``pg_dist_partition``), which a single server does not have, so ``pgrecall check``
could not describe it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ..errors import ConfigurationError, PgRecallError, translate
from ..query.db import DB
from ..query.resources import project_queries
from .catalog import tenant_tables

__all__ = ["DistributeReport", "citus_version", "distribute"]

DISTRIBUTION_COLUMN = "tenant_id"


class DistributeReport(BaseModel):
    """What :func:`distribute` did (``dry_run``: what it would do)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    citus_version: str
    workers: int
    distributed: list[str]  # tables distributed now, in the order it was done
    reference: list[str]  # tables made reference tables now
    already: list[str]  # tables that were distributed (or reference) before
    colocate_with: str | None  # the table the group is anchored on
    settings: dict[str, str]  # settings made: database-level, and per function
    dry_run: bool


def citus_version(conn: psycopg.Connection[Any]) -> str | None:
    """The installed Citus extension version, or ``None`` on a plain PostgreSQL."""
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'").fetchone()
    return None if row is None else str(row[0])


def _require_coordinator(conn: psycopg.Connection[Any]) -> tuple[str, int]:
    version = citus_version(conn)
    if version is None:
        raise ConfigurationError(
            "Citus is not installed in this database: `pgrecall distribute` needs a Citus "
            "coordinator (CREATE EXTENSION citus, then add the workers with citus_add_node). "
            "On a single PostgreSQL server there is nothing to distribute."
        )
    row = conn.execute("SELECT citus_is_coordinator()").fetchone()
    if row is None or not row[0]:
        raise ConfigurationError(
            "this is a Citus worker or a node without metadata: run `pgrecall distribute` "
            "against the coordinator"
        )
    row = conn.execute(
        "SELECT count(*) FROM pg_dist_node "
        "WHERE noderole = 'primary' AND isactive AND shouldhaveshards AND groupid <> 0"
    ).fetchone()
    workers = int(row[0]) if row else 0
    if workers == 0:
        raise ConfigurationError(
            "the Citus coordinator has no active worker: add them first "
            "(SELECT citus_add_node('host', port)), then distribute"
        )
    return version, workers


def _placed(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, str | None]]:
    """pgrecall tables Citus knows: name -> (method h/n/s, distribution column)."""
    rows = conn.execute(
        "SELECT c.relname::text, p.partmethod::text, "
        "       CASE WHEN p.partmethod = 'h' "
        "            THEN column_to_column_name(p.logicalrelid, p.partkey) END "
        "FROM pg_dist_partition AS p JOIN pg_class AS c ON c.oid = p.logicalrelid "
        "WHERE c.relnamespace = 'pgrecall'::regnamespace AND NOT c.relispartition"
    ).fetchall()
    return {str(name): (str(method), col) for name, method, col in rows}


def _plain_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """pgrecall tables without a tenant_id (reference-table candidates)."""
    rows = conn.execute(
        "SELECT c.relname::text FROM pg_class AS c "
        "WHERE c.relnamespace = 'pgrecall'::regnamespace AND c.relkind IN ('r', 'p') "
        "  AND NOT c.relispartition "
        "  AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = c.oid "
        "                  AND a.attname = 'tenant_id' AND NOT a.attisdropped) "
        "ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _table(name: str) -> sql.Composable:
    return sql.Identifier("pgrecall", name)


def distribute(
    url: str, *, shard_count: int | None = None, dry_run: bool = False
) -> DistributeReport:
    """Distribute every pgrecall table on ``tenant_id`` (co-located); idempotent.

    ``shard_count`` applies to a new co-location group only (default: Citus's
    ``citus.shard_count``, 32). Sets ``citus.enable_unsafe_triggers = on`` for the
    database: Citus refuses tables with triggers without it; pgrecall's triggers touch
    only the rows of the row's own tenant, which live in the co-located shard.
    """
    if shard_count is not None and not 1 <= shard_count <= 64000:
        raise PgRecallError("shard_count must be between 1 and 64000")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            return _distribute(conn, shard_count, dry_run)
    except psycopg.Error as exc:
        raise translate(exc) from exc


def _distribute(
    conn: psycopg.Connection[Any], shard_count: int | None, dry_run: bool
) -> DistributeReport:
    version, workers = _require_coordinator(conn)
    if conn.execute("SELECT to_regnamespace('pgrecall')").fetchone() in (None, (None,)):
        raise ConfigurationError("no pgrecall schema here: run `pgrecall migrate` first")
    placed = _placed(conn)
    for name, (method, column) in placed.items():
        if method == "h" and column != DISTRIBUTION_COLUMN:
            raise ConfigurationError(
                f"pgrecall.{name} is distributed on {column!r}, not {DISTRIBUTION_COLUMN!r}: "
                "undistribute it (SELECT undistribute_table(...)) and run distribute again"
            )
    order, _ = tenant_tables(DB(conn), project_queries())
    anchor = next((t.name for t in order if placed.get(t.name, ("", None))[0] == "h"), None)
    already = [t.name for t in order if t.name in placed]
    todo = [t.name for t in order if t.name not in placed]
    plain = [n for n in _plain_tables(conn) if n not in placed]
    already += [n for n in _plain_tables(conn) if n in placed]
    settings: dict[str, str] = {}
    dbname = conn.info.dbname
    if not dry_run:
        unsafe = conn.execute("SHOW citus.enable_unsafe_triggers").fetchone()
        if unsafe is None or unsafe[0] != "on":
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET citus.enable_unsafe_triggers = on").format(
                    sql.Identifier(dbname)
                )
            )
            settings["citus.enable_unsafe_triggers"] = "on"
        conn.execute("SET citus.enable_unsafe_triggers = on")
        for name in plain:  # reference tables first: distributed tables may point at them
            conn.execute("SELECT create_reference_table(%s)", (f"pgrecall.{name}",))
        for name in todo:
            _create(conn, name, anchor, shard_count)
            anchor = anchor or name
        for fn in _nested_functions(conn):
            conn.execute(
                sql.SQL(
                    "ALTER FUNCTION {} SET citus.allow_nested_distributed_execution = on"
                ).format(sql.SQL(fn))
            )
            settings[fn] = "citus.allow_nested_distributed_execution = on"
    return DistributeReport(
        citus_version=version,
        workers=workers,
        distributed=todo,
        reference=plain,
        already=already,
        colocate_with=anchor or (todo[0] if todo else None),
        settings=settings,
        dry_run=dry_run,
    )


def _nested_functions(conn: psycopg.Connection[Any]) -> list[str]:
    """pgrecall functions (not triggers) that read pgrecall tables, not yet allowed to.

    Such a function may sit inside a query Citus pushes down to a shard (e.g.
    ``require_conversation`` in the message reads), where its own query is a distributed
    query Citus refuses unless ``citus.allow_nested_distributed_execution`` is on. It reads
    only the calling tenant's rows, which live in the co-located shard on the same node
    (local execution), so allowing it per function is safe; a function called on its own
    runs on the coordinator and is unaffected.
    """
    rows = conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc AS p "
        "WHERE p.pronamespace = 'pgrecall'::regnamespace "
        "  AND p.prorettype <> 'trigger'::regtype AND p.prokind = 'f' "
        "  AND p.prosrc ~* '(from|join|update|into)\\s+pgrecall\\.' "
        "  AND NOT coalesce('citus.allow_nested_distributed_execution=on' = ANY(p.proconfig), "
        "                   false) "
        "ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _create(
    conn: psycopg.Connection[Any], name: str, anchor: str | None, shard_count: int | None
) -> None:
    qualified = f"pgrecall.{name}"
    with conn.transaction():
        # Shards are created and filled over several connections per worker; in one
        # transaction with foreign keys Citus wants them sequential.
        conn.execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
        if anchor is None:
            conn.execute(
                "SELECT create_distributed_table(%s, %s, colocate_with => 'none', "
                "shard_count => %s)",
                (qualified, DISTRIBUTION_COLUMN, shard_count),
            )
        else:
            conn.execute(
                "SELECT create_distributed_table(%s, %s, colocate_with => %s)",
                (qualified, DISTRIBUTION_COLUMN, f"pgrecall.{anchor}"),
            )
