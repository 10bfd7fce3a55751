"""Tenant isolation: RLS as the application role, pool checkouts, catalog and query lints."""

from __future__ import annotations

import re
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgrecall
from pgrecall import Query, TenantMissingError
from pgrecall.query.resources import project_queries

TENANTS = ["t0", "t1", "t2", "t3", "t4"]


def seed(store: pgrecall.Store) -> dict[str, tuple[UUID, UUID]]:
    """One conversation with one message per tenant: tenant -> (conversation, message)."""
    out = {}
    for t in TENANTS:
        with store.session(tenant=t) as s:
            c = s.conversations.create(user_id=f"user-{t}", title=f"secret of {t}")
            m = s.messages.append(c.id, role="user", content=f"message of {t}")
            out[t] = (c.id, m.id)
    return out


RAW = {
    # Deliberately without a tenant filter: only RLS stands between tenants here.
    "read": Query.from_string(
        "read", "many", "SELECT tenant_id FROM pgrecall.messages WHERE conversation_id = :cid"
    ),
    "read_all": Query.from_string("all", "many", "SELECT tenant_id FROM pgrecall.conversations"),
    "update": Query.from_string(
        "upd", "exec", "UPDATE pgrecall.conversations SET title = 'pwned' WHERE id = :cid"
    ),
    "delete": Query.from_string(
        "del", "exec", "DELETE FROM pgrecall.conversations WHERE id = :cid"
    ),
    "insert": Query.from_string(
        "ins", "exec", "INSERT INTO pgrecall.users (tenant_id, user_id) VALUES (:victim, 'x')"
    ),
}


class TenantRow(pgrecall.models.Row):
    tenant_id: str


OPS = st.tuples(
    st.sampled_from(TENANTS), st.sampled_from(TENANTS), st.sampled_from(sorted(RAW))
)


def test_rls_random_cross_tenant_operations(app_store: pgrecall.Store) -> None:
    ids = seed(app_store)
    leaks: list[str] = []
    done = 0

    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.lists(OPS, min_size=45, max_size=45))
    def run(ops: list[tuple[str, str, str]]) -> None:
        nonlocal done
        for actor, victim, op in ops:
            cid = ids[victim][0]
            try:
                with app_store.session(tenant=actor) as s:
                    if op in ("read", "read_all"):
                        params = {"cid": cid} if op == "read" else {}
                        rows = s.db.many(RAW[op], TenantRow, **params)
                        leaks.extend(r.tenant_id for r in rows if r.tenant_id != actor)
                    elif op == "insert":
                        s.db.execute(RAW[op], victim=victim)
                        if victim != actor:
                            leaks.append(f"{actor} inserted into {victim}")
                    else:
                        n = s.db.execute(RAW[op], cid=cid)
                        if victim != actor and n:
                            leaks.append(f"{actor} {op} hit {victim}")
                        raise _Rollback  # keep the seed rows for the next operations
            except _Rollback:
                pass
            except TenantMissingError:
                assert op == "insert" and victim != actor
            except pgrecall.ConflictError:
                assert op == "insert" and victim == actor  # user 'x' exists already
            done += 1

    run()
    assert done >= 1000
    assert leaks == []
    for t in TENANTS:  # nothing was changed across tenants
        with app_store.session(tenant=t) as s:
            assert s.conversations.get(ids[t][0]).title == f"secret of {t}"


class _Rollback(Exception):
    pass


def test_no_tenant_sees_nothing_and_writes_nothing(app_store: pgrecall.Store) -> None:
    seed(app_store)
    count = Query.from_string("n", "scalar", "SELECT count(*) FROM pgrecall.messages")
    with app_store.connection() as db:
        assert db.scalar(count, int) == 0
    with pytest.raises(TenantMissingError), app_store.connection() as db:
        db.execute(RAW["insert"], victim="t0")


def test_pool_of_one_alternating_tenants(db_url: str) -> None:
    setting = Query.from_string(
        "tenant", "scalar", "SELECT coalesce(current_setting('pgrecall.tenant_id', true), '')"
    )
    with pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1) as store:
        for i in range(40):
            t = TENANTS[i % 2]
            with store.session(tenant=t) as s:
                assert s.db.scalar(setting, str) == t
                s.conversations.create(user_id=f"u-{t}")
                assert {c.tenant_id for c in s.conversations.list(f"u-{t}")} == {t}
            if i % 5 == 0:  # an error inside a session must not leave the tenant behind
                with pytest.raises(ZeroDivisionError), store.session(tenant=t):
                    _ = 1 / 0
            with store.connection() as db:
                assert db.scalar(setting, str) == ""


CATALOG = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, a.attnotnull
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'pgrecall'
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p')
ORDER BY 1
"""
KEYS = """
SELECT c.conrelid::regclass::text, c.conname, c.contype,
       (SELECT attnum FROM pg_attribute WHERE attrelid = c.conrelid AND attname = 'tenant_id')
           = ANY(c.conkey) AS has_tenant,
       c.confrelid = 0 OR (SELECT attnum FROM pg_attribute
                           WHERE attrelid = c.confrelid AND attname = 'tenant_id') = ANY(c.confkey)
FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace AND n.nspname = 'pgrecall'
WHERE c.contype IN ('p', 'u', 'f')
UNION ALL
SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, 'i',
       (SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = 'tenant_id')
           = ANY(i.indkey::int2[]), true
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'pgrecall'
WHERE i.indisunique
"""


def test_catalog_lint_every_table_is_a_tenant_table(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        tables = conn.execute(CATALOG).fetchall()
        keys = conn.execute(KEYS).fetchall()
    assert {"users", "conversations", "messages"} <= {t[0] for t in tables}
    bad = [t for t in tables if t[1:] != (True, True, True)]
    assert bad == [], "tables without RLS enabled+forced or a NOT NULL tenant_id"
    bad_keys = [k for k in keys if not (k[3] and k[4])]
    assert bad_keys == [], "PK / unique / FK without tenant_id (not Citus-ready)"


_TABLE_REF = re.compile(r"\bpgrecall\.([a-z_]+)\b(?!\s*\()")


def test_every_query_on_a_tenant_table_binds_tenant_id() -> None:
    missing = []
    for q in project_queries().values():
        exempt = "all_tenants" in q.directives  # e.g. maintenance across tenants
        if _TABLE_REF.search(q.source) and not exempt and "tenant_id" not in q.params:
            missing.append(q.where + " " + q.name)
    assert missing == []
