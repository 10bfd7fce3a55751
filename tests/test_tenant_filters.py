"""The query layer of tenant isolation alone: every named query filters by ``:tenant_id``.

Structurally (the statement parsed by pglast, see ``tenant_filter_check``), and by
behaviour: as a superuser (RLS bypassed, so only the queries' own filters stand between
tenants), tenant B reads with tenant A's ids and gets nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from hashlib import sha256
from typing import Any

import numpy as np
import psycopg
import pytest
from pydantic import BaseModel
from tenant_filter_check import check_statement, positional
from tenant_seed import BIG, Ids, fill, tenant_tables

import pgrecall
from pgrecall import NotFoundError
from pgrecall.models import Message
from pgrecall.query.named import Query
from pgrecall.query.resources import project_queries

A, B = "tenant-a", "tenant-b"

# Queries that deliberately span tenants, and why.
ALL_TENANTS: dict[str, str] = {
    "cleanup_expired_cache": "pgrecall cleanup without --tenant: :tenant_id NULL means all",
    "cleanup_deleted_conversations": "pgrecall cleanup without --tenant: all tenants",
    "cleanup_expired_memories": "pgrecall cleanup without --tenant: all tenants",
}


@pytest.fixture(scope="module")
def tenant_table_names(pg_url: str, template_db: str) -> set[str]:
    from pgrecall.testing import with_database

    with psycopg.connect(with_database(pg_url, template_db)) as conn:
        return {t.name for t in tenant_tables(conn)}


def test_every_named_query_binds_tenant_id_at_the_top_level(tenant_table_names: set[str]) -> None:
    assert {"conversations", "messages", "runs", "documents"} <= tenant_table_names
    problems, spanning = [], set()
    queries = project_queries()
    assert len(queries) > 100
    for q in queries.values():
        findings = check_statement(q.source, tenant_table_names)
        if findings and q.name in ALL_TENANTS:
            spanning.add(q.name)
        elif findings:
            problems += [f"{q.where} {q.name}: {f}" for f in findings]
    assert problems == [], "\n".join(problems)
    assert spanning == set(ALL_TENANTS), "ALL_TENANTS lists a query that no longer spans"


# `x.tenant_id = :tenant_id` (or the other way round), with casts.
_PREDICATE = re.compile(
    r"(?:\b[a-z_]+\.)?tenant_id\s*=\s*:tenant_id(?:::text)?"
    r"|:tenant_id(?:::text)?\s*=\s*(?:\b[a-z_]+\.)?tenant_id\b"
)


def neutralise(source: str) -> str:
    """Every tenant predicate of ``source`` turned into ``(predicate OR true)``."""
    out, n = _PREDICATE.subn(lambda m: f"({m.group(0)} OR true)", source)
    assert n, "no tenant predicate to neutralise"
    return out


@pytest.mark.parametrize(
    "name",
    [
        "get_document",
        "get_run",
        "get_memory",
        "get_conversation",
        "list_runs",
        "search_vector",
        "recall_memories",
        "context_window",
        "update_document",
        "delete_run",
    ],
)
def test_the_checker_catches_a_neutralised_predicate(
    name: str, tenant_table_names: set[str]
) -> None:
    q = project_queries()[name]
    assert check_statement(q.source, tenant_table_names) == []
    mutant = neutralise(q.source)
    assert check_statement(mutant, tenant_table_names) != [], mutant


def test_the_checker_sees_every_way_round_the_filter(tenant_table_names: set[str]) -> None:
    bad = [
        "SELECT * FROM pgrecall.runs WHERE tenant_id = :tenant_id OR id = :id",
        "SELECT * FROM pgrecall.runs WHERE NOT (tenant_id <> :tenant_id)",
        "SELECT * FROM pgrecall.runs r JOIN pgrecall.documents d ON d.run_id = r.id "
        "WHERE r.tenant_id = :tenant_id",  # d is not tied to the tenant
        "SELECT * FROM pgrecall.conversations c LEFT JOIN pgrecall.messages m "
        "ON m.tenant_id = :tenant_id WHERE c.id = :id",  # a LEFT JOIN's ON leaves c alone
        "SELECT * FROM pgrecall.runs WHERE id IN (SELECT run_id FROM pgrecall.documents) "
        "AND tenant_id = :tenant_id",
        "WITH x AS (SELECT * FROM pgrecall.runs) SELECT * FROM x WHERE tenant_id = :tenant_id",
        "DELETE FROM pgrecall.runs WHERE id = :id",
        "UPDATE pgrecall.runs SET kind = 'x' WHERE tenant_id = :other",
        "INSERT INTO pgrecall.users (tenant_id, user_id) VALUES (:other, 'u')",
        "INSERT INTO pgrecall.users (tenant_id, user_id) SELECT tenant_id, user_id "
        "FROM pgrecall.conversations WHERE id = :id AND :tenant_id IS NOT NULL",
    ]
    good = [
        "SELECT * FROM pgrecall.runs r JOIN pgrecall.documents d "
        "ON d.tenant_id = r.tenant_id AND d.run_id = r.id WHERE r.tenant_id = :tenant_id",
        "SELECT * FROM pgrecall.runs r WHERE r.tenant_id = :tenant_id AND EXISTS "
        "(SELECT 1 FROM pgrecall.documents d WHERE d.tenant_id = r.tenant_id)",
        "INSERT INTO pgrecall.users (tenant_id, user_id) VALUES (:tenant_id::text, 'u')",
    ]
    for sql in bad:
        assert check_statement(sql, tenant_table_names) != [], sql
    for sql in good:
        assert check_statement(sql, tenant_table_names) == [], sql


def test_positional_parameters() -> None:
    text, numbers = positional("SELECT ':x', :a, :b::int, :a, x::text FROM t -- :c\n")
    assert text == "SELECT ':x', $1, $2::int, $1, x::text FROM t -- :c\n"
    assert numbers == {"a": 1, "b": 2}


# --- by behaviour --------------------------------------------------------------------


@pytest.fixture
def used_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The names of the named queries run while the test runs."""
    used: set[str] = set()
    original = Query.bind

    def record(self: Query, params: Mapping[str, Any]) -> Mapping[str, Any]:
        used.add(self.name)
        return original(self, params)

    monkeypatch.setattr(Query, "bind", record)
    yield used


def _empty(value: object) -> bool:
    if isinstance(value, BaseModel):
        return _empty(dict(value))
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_empty(v) for v in value)
    return value in (None, 0, False, "")


def _reads(s: pgrecall.Session, a: Ids) -> dict[str, Callable[[], object]]:
    """Every read of the API, with tenant A's ids."""
    v = [0.1, 0.2, 0.3]
    queries = project_queries()
    c = a.conversation
    return {
        "conversations.get": lambda: s.conversations.get(c),
        "conversations.list": lambda: s.conversations.list(a.user_id),
        "messages.get": lambda: s.messages.get(a.message),
        "messages.last": lambda: s.messages.last(c),
        "messages.page": lambda: s.messages.page(c, after_seq=0),
        "messages.count_by_role": lambda: s.messages.count_by_role(c),
        "messages.by_source": lambda: s.messages.by_source("chat"),
        "messages.context": lambda: s.messages.context(c, max_tokens=10_000),
        "get_message_by_request_id": lambda: s.db.one(  # an append's retry path
            queries.get_message_by_request_id,
            Message,
            tenant_id=B,
            conversation_id=c,
            request_id="m-1",
        ),
        "users.get": lambda: s.users.get(a.user_id),
        "users.by_email": lambda: s.users.by_email("u1@example.com"),
        "users.list": lambda: s.users.list(),
        "documents.get": lambda: s.documents.get(a.document),
        "documents.find_by_sha256": lambda: s.documents.find_by_sha256(sha256(b"iso").hexdigest()),
        "documents.list": lambda: s.documents.list(),
        "documents.count": lambda: s.documents.count(),
        "analyses.get": lambda: s.analyses.get(a.analysis),
        "analyses.version": lambda: s.analyses.version(a.document, 1),
        "analyses.latest_many": lambda: s.analyses.latest_many([a.document]),
        "analyses.history": lambda: s.analyses.history(a.document),
        "embeddings.get": lambda: s.embeddings.get(a.embedding),
        "embeddings.chunks": lambda: s.embeddings.chunks(a.document),
        "embeddings.count": lambda: s.embeddings.count(),
        "embeddings.models": lambda: [
            m for m in s.embeddings.models() if m.name not in ("tiny", "big")
        ],
        "search.text": lambda: s.search.text("standards"),
        "search.chunks": lambda: s.search.chunks("chunk", model="tiny"),
        "search.vector": lambda: s.search.vector(v, 5, model="tiny"),
        "search.hybrid": lambda: s.search.hybrid("chunk", v, 5, model="tiny"),
        "search.vector_quantized": lambda: s.search.vector_quantized(
            np.linspace(-1, 1, BIG), 5, model="big"
        ),
        "memories.get": lambda: s.memories.get(a.memory),
        "memories.list": lambda: s.memories.list(user_id=a.user_id),
        "memories.recall": lambda: s.memories.recall(v, 5, model="tiny", conversation_id=c),
        "memories.context": lambda: s.memories.context(
            c, max_tokens=10_000, embedding=v, model="tiny"
        ),
        "runs.get": lambda: s.runs.get(a.run),
        "runs.by_request_id": lambda: s.runs.by_request_id("r-1"),
        "runs.list": lambda: s.runs.list(),
        "runs.files": lambda: s.runs.files(a.run),
        "events.list": lambda: s.events.list(),
        "events.partitions": lambda: [p.row_count for p in s.events.partitions()],
        "events.of_request": lambda: s.events.of_request("req-1"),
        "events.of_conversation": lambda: s.events.of_conversation(c),
        "cache.get": lambda: s.cache.get("k"),
        "cache.peek": lambda: s.cache.peek("k"),
        "cache.stats": lambda: s.cache.stats(),
        "kv.get": lambda: s.kv.get("ns", "key"),
        "kv.keys": lambda: s.kv.keys("ns"),
        "kv.items": lambda: s.kv.items("ns"),
        "personas.get": lambda: s.personas.get(a.persona),
        "personas.by_name": lambda: s.personas.by_name("Ada"),
        "personas.list": lambda: s.personas.list(),
        "personas.modules": lambda: s.personas.modules(a.persona),
        "modules.get": lambda: s.modules.get(a.module),
        "modules.by_name": lambda: s.modules.by_name("safety"),
        "modules.list": lambda: s.modules.list(),
        "states.get": lambda: s.states.get(c, "mood", persona_id=a.persona, module_id=a.module),
        "states.list": lambda: s.states.list(c),
        "domain_sets.get": lambda: s.domain_sets.get(a.domain_set),
        "domain_sets.by_name": lambda: s.domain_sets.by_name("std"),
        "domain_sets.containing": lambda: s.domain_sets.containing("iso.org"),
        "domain_sets.list": lambda: s.domain_sets.list(),
        "stats.counts": lambda: {
            k: n for k, n in s.stats.counts().items() if k != "embedding_models"
        },
        "stats.conversation_totals": lambda: s.stats.conversation_totals(),
        "stats.model_usage": lambda: s.stats.model_usage(),
        "stats.events_per_day": lambda: s.stats.events_per_day(),
        "stats.run_outcomes": lambda: s.stats.run_outcomes(),
    }


# Read queries the API test above does not reach, and why.
NOT_READ_HERE: dict[str, str] = {
    "api_key_list": "the HTTP service's keys (tests/test_api*.py)",
    "api_rate_take": "a SECURITY DEFINER token bucket, no tenant rows read (tests/test_api*.py)",
    "check_model_dimensions": "a guard of the pipelined chat turn: returns 1 or divides by "
    "zero, no row comes back (its tenant filter is checked structurally above)",
}


def test_tenant_b_reads_nothing_of_tenant_a_with_rls_off(
    store: pgrecall.Store, used_queries: set[str]
) -> None:
    with store.connection() as db:  # the test's premise: this login bypasses RLS
        assert db.scalar(project_queries().role_bypasses_rls, bool) is True
    a = fill(store, A)
    with store.session(tenant=B) as s:
        s.embeddings.declare_model("tiny", dimensions=3)  # so that B may search with it
        s.embeddings.declare_model("big", dimensions=BIG)
    leaks = []
    with store.session(tenant=B) as s:
        for name, read in _reads(s, a).items():
            try:
                with s.savepoint():
                    got = read()
            except NotFoundError:
                continue
            if not _empty(got):
                leaks.append(f"{name}: {got!r}"[:300])
    assert leaks == [], "\n".join(leaks)
    reads = {
        q.name
        for q in project_queries().values()
        if q.kind in ("one", "many", "scalar")
        and "tenant_id" in q.params
        and re.match(r"\s*(SELECT|WITH)\b", q.source, re.I)
        and not re.search(r"\b(INSERT|UPDATE|DELETE)\b", q.source, re.I)
    }
    missed = sorted(reads - used_queries - set(NOT_READ_HERE))
    assert missed == [], "read queries no test above runs as tenant B: add them to _reads"
