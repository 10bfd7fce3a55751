"""The test suite on a Citus cluster: ``PGRECALL_TEST_CITUS_URL``.

The URL names a database on the Citus coordinator that has the ``citus`` and ``vector``
extensions on every node and its workers registered (a database of the same name on
each worker, the worker nodes registered in it). Template clones cannot work on
Citus (the shards live in same-named databases on the workers), so the suite uses that
one database for every test:

- once per run: the ``pgrecall`` schema and the migration ledger are dropped, every
  migration is applied and the tables are distributed (``pgrecall distribute``,
  with ``PGRECALL_TEST_CITUS_SHARDS`` shards, default 4, so shard-level work stays
  small while every tenant table still spans both workers);
- before each test: every pgrecall table is emptied (:func:`empty_all`), so tests
  never see each other's rows.

Tests that need a database of their own (``empty_db_url``: migration tests) get a plain
database on the coordinator, which is an ordinary PostgreSQL without Citus.
Without the variable nothing here runs.
"""

from __future__ import annotations

import os

import psycopg
from psycopg import sql

from ..settings import yoyo_url

__all__ = ["CITUS_URL_ENV", "citus_url", "empty_all", "fingerprint", "prepare"]

CITUS_URL_ENV = "PGRECALL_TEST_CITUS_URL"
_LEDGER_TABLES = ("_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock", "migration_ledger")


def citus_url() -> str | None:
    """The Citus database URL of this test run, or ``None`` (single server)."""
    return os.environ.get(CITUS_URL_ENV) or None


def prepare(url: str) -> None:
    """Reset ``url``'s database to a migrated, distributed pgrecall schema."""
    from .. import migrate as migrations
    from ..ops.distribute import distribute

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS pgrecall CASCADE")
        for table in _LEDGER_TABLES:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    migrations.migrate(yoyo_url(url))
    with psycopg.connect(url, autocommit=True) as conn:
        # Tests that SET ROLE pgrecall_app: Citus opens its worker connections as the
        # current role, which must be allowed to log in. Test clusters only; an
        # application logs in as its own role, a member of pgrecall_app.
        conn.execute("ALTER ROLE pgrecall_app LOGIN")
    shards = int(os.environ.get("PGRECALL_TEST_CITUS_SHARDS", "4"))
    distribute(url, shard_count=shards)


def empty_all(url: str) -> None:
    """Delete every row of every ``pgrecall`` table.

    ``DELETE`` with triggers and foreign-key checks off (``session_replication_role =
    replica``, sent to the workers) rather than ``TRUNCATE``: on Citus a TRUNCATE of
    every table costs seconds (locks and two-phase commit on every shard), these
    deletes some 50 ms.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class AS c "
            "WHERE c.relnamespace = 'pgrecall'::regnamespace AND c.relkind IN ('r', 'p') "
            "  AND NOT c.relispartition ORDER BY 1"
        ).fetchall()
        with conn.transaction():
            conn.execute("SET LOCAL citus.propagate_set_commands = 'local'")
            conn.execute("SET LOCAL session_replication_role = replica")
            for (name,) in rows:
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("pgrecall", name)))


_FINGERPRINT = """
SELECT md5(concat_ws('|',
    (SELECT string_agg(migration_id, ',' ORDER BY migration_id) FROM _yoyo_migration),
    (SELECT string_agg(p.oid::regprocedure::text || coalesce(p.proconfig::text, ''), ','
                       ORDER BY 1)
     FROM pg_proc AS p WHERE p.pronamespace = 'pgrecall'::regnamespace),
    (SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class AS c
     WHERE c.relnamespace = 'pgrecall'::regnamespace AND c.relkind IN ('r', 'p')
       AND NOT c.relispartition)))
"""


def fingerprint(url: str) -> str | None:
    """The schema's migrations, functions and tables in one hash (``None``: no schema).

    A test that rolls a migration back or applies its own changes the shared database
    for every test after it; the plugin compares this after each test and prepares the
    database again when it moved.
    """
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(_FINGERPRINT).fetchone()
    except psycopg.Error:
        return None
    return None if row is None else str(row[0])
