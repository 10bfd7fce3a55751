"""Helpers of the tenant-isolation tests (no tests here): a row in every tenant table.

``fill`` writes a bit of every area through the API; ``complete`` then gives every
tenant table the API did not reach (a table added later, or one only a SECURITY DEFINER
function writes) a minimal row generated from the catalog: NOT NULL columns without a
default get a value of their type, foreign keys point at the tenant's existing parent
rows. A table neither can fill fails the test that needs it, naming the table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import numpy as np
import psycopg
from psycopg import sql

import pgrecall
from pgrecall.models.ops import NewEvent

__all__ = ["BIG", "Ids", "TenantTable", "complete", "fill", "tenant_tables"]

BIG = 3072  # dimensions of the "big" model (binary-quantized search, migration 0021)


@dataclass(frozen=True)
class Ids:
    """The ids of the rows ``fill`` made for one tenant."""

    conversation: UUID
    message: UUID
    persona: UUID
    module: UUID
    run: UUID
    document: UUID
    analysis: UUID
    embedding: UUID
    memory: UUID
    domain_set: UUID
    user_id: str


def fill(store: pgrecall.Store, tenant: str) -> Ids:
    """A bit of every area for ``tenant`` (the store may be a superuser's)."""
    with store.session(tenant=tenant) as s:
        s.users.upsert("u1", email="u1@example.com")
        p = s.personas.create("Ada", template="You are Ada.")
        m = s.modules.create("safety", type="simple", content="Be safe.")
        s.personas.attach(p.id, m.id)
        c = s.conversations.create(user_id="u1", title=f"secret of {tenant}", persona_id=p.id)
        msg = s.messages.append(
            c.id,
            role="user",
            content=f"message of {tenant}",
            source="chat",
            model="m",
            request_id="m-1",
        )
        s.states.set(c.id, "mood", {"v": 1}, persona_id=p.id, module_id=m.id)
        run = s.runs.create(
            "research", input={"q": "?"}, conversation_id=c.id, user_id="u1", request_id="r-1"
        )
        s.events.log("llm.call", conversation_id=c.id, request_id="req-1", details={"k": 1})
        s.events.log_many([NewEvent(type="old", occurred_at=datetime.now(UTC) - timedelta(1))])
        s.cache.set("k", {"cached": True}, ttl=3600)
        s.kv.mset("ns", [("key", b"value")])
        ds = s.domain_sets.create("std", ["iso.org"])
        doc = s.documents.add(
            filename="a.txt", title="standards", run_id=run.id, data=b"iso", source="web"
        )
        a = s.analyses.add(doc.id, summary="about standards", tags=["iso"])
        s.embeddings.declare_model("tiny", dimensions=3)
        s.embeddings.declare_model("big", dimensions=BIG)  # the quantized search's size
        s.embeddings.add("big chunk", np.linspace(-1, 1, BIG), model="big", document_id=doc.id)
        e = s.embeddings.add("chunk", np.array([0.1, 0.2, 0.3]), model="tiny", document_id=doc.id)
        mem = s.memories.add(
            "likes tea", user_id="u1", persona_id=p.id, embedding=[0.3, 0.2, 0.1], model="tiny"
        )
    return Ids(c.id, msg.id, p.id, m.id, run.id, doc.id, a.id, e.id, mem.id, ds.id, "u1")


@dataclass(frozen=True)
class TenantTable:
    name: str
    key: list[str]  # primary key columns (all columns when there is none)
    insertable: list[str]  # columns an INSERT may name (no generated / identity always)


TABLES = """
SELECT c.relname,
       coalesce((SELECT array_agg(a.attname ORDER BY k.ord)
                 FROM pg_constraint p
                 CROSS JOIN unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                 WHERE p.conrelid = c.oid AND p.contype = 'p'), '{}'),
       (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attgenerated = '' AND a.attidentity <> 'a')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'pgrecall'
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
              AND NOT a.attisdropped)
ORDER BY 1
"""


def tenant_tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[TenantTable]:
    """Every table of schema ``pgrecall`` with a ``tenant_id`` (partitions excluded)."""
    rows = conn.execute(TABLES).fetchall()
    return [TenantTable(str(r[0]), list(r[1]) or list(r[2]), list(r[2])) for r in rows]  # type: ignore[call-overload]


COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory,
       (SELECT f.confrelid::regclass::text || ':' || (
            SELECT fa.attname FROM pg_attribute fa
            WHERE fa.attrelid = f.confrelid
              AND fa.attnum = f.confkey[array_position(f.conkey, a.attnum)])
        FROM pg_constraint f
        WHERE f.conrelid = a.attrelid AND f.contype = 'f' AND a.attnum = ANY(f.conkey)
          AND a.attname <> 'tenant_id'
        LIMIT 1)
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attnotnull AND NOT a.atthasdef AND a.attgenerated = '' AND a.attname <> 'tenant_id'
ORDER BY a.attnum
"""

# A value of each type category (pg_type.typcategory) for a generated row.
_BY_CATEGORY: dict[str, object] = {
    "S": "x",  # strings
    "N": 1,  # numbers
    "B": True,  # booleans
    "D": datetime.now(UTC),  # dates and times
    "A": [],  # arrays
}


def complete(conn: psycopg.Connection[tuple[object, ...]], tenant: str) -> list[str]:
    """Give every tenant table without a row of ``tenant`` a generated one (as a superuser,
    RLS bypassed). Returns the tables it filled; raises naming the table it cannot fill."""
    filled = []
    for t in tenant_tables(conn):
        table = sql.Identifier("pgrecall", t.name)
        q = sql.SQL("SELECT 1 FROM {} WHERE tenant_id = %s LIMIT 1").format(table)
        if conn.execute(q, (tenant,)).fetchone() is not None:
            continue
        names: list[str] = ["tenant_id"]
        values: list[object] = [tenant]
        for name, typ, category, fk in conn.execute(COLUMNS, (f"pgrecall.{t.name}",)):
            names.append(str(name))
            if fk is not None:  # a parent row of the same tenant
                parent, column = str(fk).split(":")
                pick = sql.SQL("SELECT {} FROM {} WHERE tenant_id = %s LIMIT 1").format(
                    sql.Identifier(column), sql.SQL(parent)
                )
                row = conn.execute(pick, (tenant,)).fetchone()
                values.append(None if row is None else row[0])
            elif typ == "bytea":
                values.append(os.urandom(32))
            elif typ == "uuid":
                values.append(UUID(bytes=os.urandom(16), version=4))
            elif typ in ("json", "jsonb"):
                values.append(psycopg.types.json.Jsonb({}))
            elif category in _BY_CATEGORY:
                values.append(_BY_CATEGORY[str(category)])
            else:
                raise AssertionError(f"cannot generate a {typ} for pgrecall.{t.name}.{name}")
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table,
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
        )
        try:
            with conn.transaction():
                conn.execute(insert, values)
        except psycopg.Error as e:
            raise AssertionError(
                f"no row in pgrecall.{t.name} after fill(), and a generated one is refused "
                f"({e}); make tests/tenant_seed.py fill() write one"
            ) from e
        filled.append(t.name)
    return filled
