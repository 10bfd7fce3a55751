"""Citus support: ``pgrecall distribute``, settings that reach the shards, error translation.

The Citus tests run when ``PGRECALL_TEST_CITUS_URL`` names a database on a Citus
coordinator (the whole suite then runs there, see :mod:`pgrecall.testing.citus`); they
skip otherwise (CI has no Citus). The refusal without Citus runs on the single server.
"""

from __future__ import annotations

import psycopg
import pytest

import pgrecall
from pgrecall.cli import main
from pgrecall.ops.distribute import distribute
from pgrecall.query.citus import is_citus
from pgrecall.testing.citus import citus_url

CITUS = citus_url()
needs_citus = pytest.mark.skipif(CITUS is None, reason="no Citus: PGRECALL_TEST_CITUS_URL unset")


@pytest.mark.skipif(CITUS is not None, reason="the test server is a Citus coordinator")
def test_distribute_refuses_without_citus(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(pgrecall.ConfigurationError, match="Citus is not installed"):
        distribute(db_url)
    assert main(["--url", db_url, "distribute"]) == 2
    assert "Citus is not installed in this database" in capsys.readouterr().err


@pytest.mark.skipif(CITUS is not None, reason="the test server is a Citus coordinator")
def test_single_server_keeps_set_config(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        assert not is_citus(s.db.conn)
        assert s.db.conn.execute("SHOW pgrecall.tenant_id").fetchone() == ("acme",)


@needs_citus
def test_every_tenant_table_is_distributed_and_colocated(db_url: str) -> None:
    again = distribute(db_url)  # the harness distributed already: nothing left to do
    assert again.distributed == [] and again.reference == [] and again.workers >= 1
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, p.partmethod, column_to_column_name(p.logicalrelid, p.partkey), "
            "       p.colocationid "
            "FROM pg_class AS c LEFT JOIN pg_dist_partition AS p ON p.logicalrelid = c.oid "
            "WHERE c.relnamespace = 'pgrecall'::regnamespace AND c.relkind IN ('r', 'p') "
            "  AND NOT c.relispartition"
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(again.already)
    assert {(r[1], r[2]) for r in rows} == {("h", "tenant_id")}
    assert len({r[3] for r in rows}) == 1  # one co-location group


@needs_citus
def test_tenant_and_search_settings_reach_the_workers(store: pgrecall.Store) -> None:
    tenants = [f"t{i}" for i in range(12)]  # rows in several shards, on both workers
    for t in tenants:
        with store.session(tenant=t) as s:
            s.users.upsert("u")
            s.embeddings.declare_model("tiny", dimensions=3)
    with store.session(tenant="t0") as s:
        assert is_citus(s.db.conn)
        s.search.vector([1, 0, 0], 3, model="tiny", ef_search=77, max_scan_tuples=5000)
        seen = s.db.conn.execute(
            "SELECT DISTINCT current_setting('hnsw.ef_search'), "
            "       current_setting('pgrecall.tenant_id') FROM pgrecall.users"
        ).fetchall()  # a multi-shard query: evaluated on the workers
    assert seen == [("77", "t0")]
    with store.session(tenant="t1") as s:  # transaction-local: the next one starts clean
        assert s.db.conn.execute("SHOW pgrecall.tenant_id").fetchone() == ("t1",)


@needs_citus
def test_errors_from_the_shards_read_as_on_one_server(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.users.upsert("u1", username="ada")
        with pytest.raises(pgrecall.ConflictError) as dup, s.savepoint():
            s.users.upsert("u2", username="ada")
        assert dup.value.sqlstate == "23505"
        assert dup.value.constraint_name == "users_username_key"
        assert "users_username_key" in str(dup.value) and "_10" not in str(dup.value)
        with pytest.raises(pgrecall.ConflictError) as fk, s.savepoint():
            s.memories.add("x", persona_id="01a22b09-0c3f-75fd-92c2-c92d4f464ca9")
        assert fk.value.constraint_name == "memories_persona_fkey"


@needs_citus
def test_moving_a_row_to_another_tenant_is_refused(app_store: pgrecall.Store) -> None:
    with app_store.session(tenant="acme") as s:
        s.users.upsert("u1")
        with pytest.raises(pgrecall.TenantMissingError), s.savepoint():
            s.db.run(
                psycopg.sql.Composed(
                    [psycopg.sql.SQL("UPDATE pgrecall.users SET tenant_id = 'evil'")]
                )
            )
