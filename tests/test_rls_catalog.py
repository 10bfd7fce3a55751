"""Row level security alone, per table, found from the catalog.

Every table of schema ``pgrecall`` with a ``tenant_id`` is tested by behaviour, so a table
added later is covered without editing this file: a row of tenant A (written through a
superuser, RLS bypassed) is looked at with raw SQL -- not pgrecall's queries, which also
filter by tenant -- by a non-superuser member of ``pgrecall_app`` as tenant B and with
no tenant set. Plus a lint of ``pg_policies``. Tables that are deliberately not tenant
scoped are listed in ``NOT_TENANT_SCOPED`` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from tenant_seed import TenantTable, complete, fill, tenant_tables

import pgrecall

A, B = "tenant-a", "tenant-b"
PREDICATE = "(tenant_id = pgrecall.current_tenant())"

# Tables of the pgrecall schemas without a tenant_id, and why that is right.
NOT_TENANT_SCOPED: dict[str, str] = {
    "pgrecall_meta.migration_ledger": "migration bookkeeping (checksums), no tenant data; "
    "pgrecall_app has no privilege on it",
}
# Policies besides the tenant policy. Each must not apply to PUBLIC or pgrecall_app.
EXTRA_POLICIES: dict[tuple[str, str], str] = {
    ("api_keys", "api_key_lookup"): "lets the owner of the SECURITY DEFINER api_key_tenant() "
    "find a key's tenant from its hash (0015)",
    ("api_rate_limits", "rate_limit_owner"): "lets the owner of the SECURITY DEFINER "
    "api_rate_take() update every tenant's bucket (0016)",
}


@pytest.fixture
def seeded(store: pgrecall.Store, db_url: str) -> Iterator[list[TenantTable]]:
    """Rows of tenant A in every tenant table; the list of tenant tables."""
    fill(store, A)
    with psycopg.connect(db_url, autocommit=True) as conn:
        complete(conn, A)
        yield tenant_tables(conn)


def _key_of_a_row(conn: psycopg.Connection[tuple[object, ...]], t: TenantTable) -> sql.Composed:
    """A predicate matching exactly one row of tenant A (read as superuser)."""
    cols = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in t.key)
    q = sql.SQL("SELECT {} FROM {} WHERE tenant_id = %s LIMIT 1").format(
        cols, sql.Identifier("pgrecall", t.name)
    )
    row = conn.execute(q, (A,)).fetchone()
    assert row is not None, f"no row of tenant A in pgrecall.{t.name}"
    return sql.SQL(" AND ").join(
        sql.SQL("{}::text = {}").format(sql.Identifier(c), sql.Literal(v))
        for c, v in zip(t.key, row, strict=True)
    )


def _row_as_json(
    conn: psycopg.Connection[tuple[object, ...]], t: TenantTable, where: sql.Composed
) -> str:
    q = sql.SQL("SELECT row_to_json(r)::text FROM {} AS r WHERE {}").format(
        sql.Identifier("pgrecall", t.name), where
    )
    row = conn.execute(q).fetchone()
    assert row is not None
    return str(row[0])


class _Probe:
    """The app login, one rolled-back transaction per statement, a tenant (or none) set."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self.conn = conn

    def run(
        self,
        tenant: str | None,
        statement: sql.Composed,
        params: tuple[object, ...] = (),
        *,
        no_triggers: bool = False,
    ) -> int:
        """Rows returned (SELECT count) or affected; -1 when refused for lack of privilege
        (a table privilege, or a row level security policy: both SQLSTATE 42501)."""
        try:
            with self.conn.transaction(force_rollback=True):
                if no_triggers:  # so that RLS alone refuses, not a trigger finding no parent
                    self.conn.execute("SET LOCAL session_replication_role = replica")
                if tenant is not None:
                    self.conn.execute(
                        "SELECT set_config('pgrecall.tenant_id', %s, true)", (tenant,)
                    )
                cur = self.conn.execute(statement, params)
                if cur.description is not None:
                    row = cur.fetchone()
                    return int(str(row[0])) if row else 0
                return cur.rowcount
        except psycopg.errors.InsufficientPrivilege:
            return -1


def test_every_tenant_table_isolates_by_rls_alone(
    seeded: list[TenantTable], db_url: str, app_url: str
) -> None:
    assert {"users", "conversations", "messages", "runs", "memories"} <= {t.name for t in seeded}
    failures: list[str] = []
    login = app_url.split("//")[1].split(":")[0]
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(f"GRANT SET ON PARAMETER session_replication_role TO {login}")
    with (
        psycopg.connect(db_url, autocommit=True) as admin,
        psycopg.connect(app_url, autocommit=True) as app,
    ):
        probe = _Probe(app)
        for t in seeded:
            table = sql.Identifier("pgrecall", t.name)
            where = _key_of_a_row(admin, t)
            count = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(table, where)
            count_all = sql.SQL("SELECT count(*) FROM {}").format(table)

            def check(what: str, got: int, allowed: tuple[int, ...], name: str = t.name) -> None:
                if got not in allowed:
                    failures.append(f"{name}: {what} -> {got}")

            can_read = probe.run(A, count) != -1
            if can_read:  # the row is there for its own tenant: the probes below mean something
                check("A sees its row", probe.run(A, count), (1,))
            check("B sees A's row", probe.run(B, count), (0, -1))
            check("B sees any row", probe.run(B, count_all), (0, -1))
            check("no tenant sees any row", probe.run(None, count_all), (0, -1))
            update = sql.SQL("UPDATE {} SET tenant_id = tenant_id WHERE {}").format(table, where)
            delete = sql.SQL("DELETE FROM {} WHERE {}").format(table, where)
            for name, stmt in (("UPDATE", update), ("DELETE", delete)):
                try:
                    check(f"B {name}s A's row", probe.run(B, stmt), (0, -1))
                    check(f"no tenant {name}s A's row", probe.run(None, stmt), (0, -1))
                except psycopg.Error as e:  # e.g. an immutability trigger: the row was reached
                    failures.append(f"{t.name}: B {name} reached A's row ({e.sqlstate} {e})")
            # INSERT a copy of A's row, tenant_id A, while B (or no tenant) is set, with
            # triggers off (session_replication_role, granted below) so that only the
            # policy's WITH CHECK stands in the way (a trigger would refuse for its own reason).
            cols = sql.SQL(", ").join(map(sql.Identifier, t.insertable))
            insert = sql.SQL(
                "INSERT INTO {} ({}) SELECT {} FROM json_populate_record(NULL::{}, %s::json)"
            ).format(table, cols, cols, table)
            record = _row_as_json(admin, t, where)
            for who in (B, None):
                try:
                    n = probe.run(who, insert, (record,), no_triggers=True)
                    if n != -1:
                        failures.append(f"{t.name}: INSERT as A with tenant {who} set: {n} row(s)")
                except psycopg.Error as e:
                    failures.append(f"{t.name}: INSERT as A with tenant {who}: {e.sqlstate} {e}")
    with psycopg.connect(db_url, autocommit=True) as admin:  # roles are cluster-wide
        admin.execute(f"REVOKE SET ON PARAMETER session_replication_role FROM {login}")
    assert failures == [], "\n".join(failures)


POLICIES = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       coalesce(json_agg(json_build_object(
           'name', p.polname, 'cmd', p.polcmd, 'permissive', p.polpermissive,
           'roles', (SELECT coalesce(array_agg(CASE WHEN r = 0 THEN 'public'
                                                    ELSE pg_get_userbyid(r)::text END), '{}')
                     FROM unnest(p.polroles) AS r),
           'using', pg_get_expr(p.polqual, p.polrelid),
           'check', pg_get_expr(p.polwithcheck, p.polrelid)))
           FILTER (WHERE p.oid IS NOT NULL), '[]')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'pgrecall'
LEFT JOIN pg_policy p ON p.polrelid = c.oid
WHERE c.relkind IN ('r', 'p')
  AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
              AND NOT a.attisdropped)
GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity
ORDER BY 1
"""

UNSCOPED = """
SELECT n.nspname || '.' || c.relname,
       has_table_privilege('pgrecall_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname IN ('pgrecall', 'pgrecall_meta')
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid
                  AND a.attname = 'tenant_id' AND NOT a.attisdropped)
ORDER BY 1
"""


def policy_problems(rows: list[tuple[object, ...]]) -> list[str]:
    """What is wrong with each table's RLS settings and policies (``POLICIES`` rows)."""
    problems = []
    for name, enabled, forced, policies in rows:
        if not (enabled and forced):
            problems.append(f"{name}: RLS enabled={enabled} forced={forced}")
        tenant = [
            p
            for p in policies  # type: ignore[attr-defined]
            if p["cmd"] == "*"
            and p["permissive"]
            and p["roles"] == ["public"]
            and p["using"] == PREDICATE
            and p["check"] == PREDICATE
        ]
        if len(tenant) != 1:
            problems.append(f"{name}: no policy FOR ALL TO PUBLIC USING and WITH CHECK {PREDICATE}")
        for p in policies:  # type: ignore[attr-defined]
            if p in tenant or not p["permissive"]:
                continue  # a restrictive policy can only narrow what the tenant policy allows
            if (str(name).split("_p2")[0], p["name"]) not in EXTRA_POLICIES:
                problems.append(f"{name}: policy {p['name']} is not the tenant policy: {p}")
            elif {"public", "pgrecall_app"} & set(p["roles"]):
                problems.append(f"{name}: policy {p['name']} applies to the application role")
    return problems


def test_policy_lint(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(POLICIES).fetchall()
        unscoped = conn.execute(UNSCOPED).fetchall()
    assert len(rows) >= 15
    assert policy_problems(rows) == []
    assert {str(r[0]) for r in unscoped} <= set(NOT_TENANT_SCOPED), "add a reason or a tenant_id"
    assert [r[0] for r in unscoped if r[1]] == [], "pgrecall_app may touch an unscoped table"


def test_policy_lint_catches_a_weakened_policy(db_url: str) -> None:
    """The lint itself can fail: each way of weakening the runs policy is reported."""
    weakenings = [
        "ALTER POLICY tenant_isolation ON pgrecall.runs USING (true)",
        "ALTER POLICY tenant_isolation ON pgrecall.runs WITH CHECK (true)",
        "ALTER POLICY tenant_isolation ON pgrecall.runs "
        "USING (tenant_id = pgrecall.current_tenant() OR true)",
        "CREATE POLICY extra ON pgrecall.runs FOR SELECT USING (true)",
        "ALTER TABLE pgrecall.runs NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON pgrecall.runs",
    ]
    with psycopg.connect(db_url) as conn:
        for ddl in weakenings:
            with conn.transaction(force_rollback=True):
                conn.execute(ddl)
                problems = policy_problems(conn.execute(POLICIES).fetchall())
            assert [p for p in problems if p.startswith("runs:")], ddl
