"""Cleanup across tenants, stats, and row level security on the operations tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import pgrecall
from pgrecall import ConfigurationError
from pgrecall.models.ops import NewEvent
from pgrecall.ops import cleanup

Q_AGE = pgrecall.Query.from_string(
    "age",
    "exec",
    "UPDATE pgrecall.conversations SET deleted_at = now() - interval '40 days' WHERE id = :id",
)
Q_EXPIRE = pgrecall.Query.from_string(
    "expire",
    "exec",
    "UPDATE pgrecall.cache SET expires_at = now() - interval '1 second'"
    " WHERE tenant_id = :tenant_id AND key = ANY(:keys)",
)
Q_AS_APP = pgrecall.Query.from_string("as_app", "exec", "SET LOCAL ROLE pgrecall_app")
OPS_TABLES = (
    "runs",
    "events",
    "cache",
    "personas",
    "modules",
    "persona_modules",
    "conversation_states",
    "domain_sets",
)


def _seed(s: pgrecall.Session) -> None:
    c = s.conversations.create(user_id="u1")
    s.conversations.delete(c.id)
    s.db.execute(Q_AGE, id=c.id)
    s.conversations.delete(s.conversations.create(user_id="u1").id)  # deleted today: kept
    s.cache.set("a", 1, ttl=60)
    s.cache.set("b", 2, ttl=60)
    s.db.execute(Q_EXPIRE, tenant_id=s.tenant, keys=["a", "b"])
    s.cache.set("c", 3)
    s.memories.add("old fact", user_id="u1", expires_at=datetime.now(UTC) - timedelta(days=1))
    s.memories.add("fresh fact", user_id="u1")


def test_cleanup_every_tenant(store: pgrecall.Store) -> None:
    for tenant in ("t1", "t2"):
        with store.session(tenant=tenant) as s:
            _seed(s)
    report = cleanup(store, events_days=None)
    assert report.tenant is None
    assert report.conversations_purged == 2 and report.cache_entries_expired == 4
    assert report.memories_expired == 2 and report.partitions_dropped == {}
    again = cleanup(store, events_days=None)
    assert again.conversations_purged == again.cache_entries_expired == 0
    with store.session(tenant="t1") as s:
        counts = s.stats.counts()
        assert counts["conversations"] == 1 and counts["cache"] == 1 and counts["memories"] == 1


def test_cleanup_one_tenant_and_the_rls_guard(store: pgrecall.Store, app_url: str) -> None:
    for tenant in ("t1", "t2"):
        with store.session(tenant=tenant) as s:
            _seed(s)
    report = cleanup(store, tenant="t1", events_days=None, deleted_days=30)
    assert report.tenant == "t1" and report.conversations_purged == 1
    with store.session(tenant="t2") as s:
        assert s.stats.counts()["cache"] == 3  # untouched
    with pgrecall.connect(app_url, pool_min_size=0) as app:
        with pytest.raises(ConfigurationError, match="bypasses row level security"):
            cleanup(app, events_days=None)
        assert cleanup(app, tenant="t2", events_days=None).cache_entries_expired == 2


def test_stats(store: pgrecall.Store) -> None:
    now = datetime.now(UTC)
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        for i in range(10):
            s.messages.append(c.id, role="user", content="q", token_count=5)
            s.messages.append(
                c.id,
                role="assistant",
                content="a",
                token_count=7,
                model="m1",
                input_tokens=100,
                output_tokens=10,
                latency_ms=100 * (i + 1),
            )
        s.messages.append(c.id, role="assistant", content="b", model="m2", latency_ms=50)
        other = s.conversations.create(user_id="u2")
        s.messages.append(other.id, role="user", content="x", token_count=1)
        s.events.log_many([NewEvent(type="view", occurred_at=now - timedelta(days=1))] * 3)
        s.events.log("view")
        s.events.log("click")
        ok = s.runs.create("research")
        s.runs.claim_next("research")
        s.runs.succeed(ok.id, input_tokens=10, output_tokens=5, cost=0.25)
        s.runs.cancel(s.runs.create("research").id)

        counts = s.stats.counts()
        assert counts["messages"] == 22 and counts["conversations"] == 2 and counts["runs"] == 2
        assert set(OPS_TABLES) <= set(counts)
        totals = s.stats.conversation_totals()
        assert [t.conversation_id for t in totals] == [c.id, other.id]
        first = totals[0]
        assert (first.messages, first.user_messages, first.assistant_messages) == (21, 10, 11)
        assert first.tokens == 10 * 5 + 10 * 7 + 1 and first.input_tokens == 1000
        assert [t.conversation_id for t in s.stats.conversation_totals(user_id="u2")] == [other.id]
        usage = {u.model: u for u in s.stats.model_usage(since=now - timedelta(hours=1))}
        assert usage["m1"].calls == 10 and usage["m1"].output_tokens == 100
        assert usage["m1"].latency_p50_ms == 550
        assert usage["m1"].latency_p95_ms == pytest.approx(955)
        assert usage["m2"].calls == 1 and usage["m2"].input_tokens == 0
        assert s.stats.model_usage(until=now - timedelta(hours=1)) == []
        per_day = [(d.day, d.type, d.events) for d in s.stats.events_per_day()]
        today, yesterday = now.date(), (now - timedelta(days=1)).date()
        assert per_day == [(yesterday, "view", 3), (today, "click", 1), (today, "view", 1)]
        assert [d.events for d in s.stats.events_per_day(type="click")] == [1]
        outcomes = {(o.kind, o.status): o for o in s.stats.run_outcomes()}
        assert set(outcomes) == {("research", "succeeded"), ("research", "cancelled")}
        done = outcomes[("research", "succeeded")]
        assert done.runs == 1 and str(done.cost) == "0.250000" and done.duration_p50_ms is not None


def test_rls_on_every_operations_table(store: pgrecall.Store) -> None:
    """As the application role, a tenant sees and changes only its own rows."""
    with store.session(tenant="a") as s:
        s.db.execute(Q_AS_APP)
        c = s.conversations.create(user_id="u1")
        p = s.personas.create("P", template="t")
        m = s.modules.create("M", type="simple")
        s.personas.attach(p.id, m.id)
        s.states.set(c.id, "k", 1, persona_id=p.id)
        run = s.runs.create("x", request_id="r")
        s.events.log("e")
        s.cache.set("k", 1)
        s.domain_sets.create("d", ["a.com"])
        assert all(s.stats.counts()[t] == 1 for t in OPS_TABLES)
    with store.session(tenant="b") as s:
        s.db.execute(Q_AS_APP)
        assert all(n == 0 for n in s.stats.counts().values())
        assert s.runs.find(run.id) is None and s.cache.get("k") is None
        assert s.personas.modules(p.id) == [] and s.states.list(c.id) == []
        assert s.runs.create("x", request_id="r").id != run.id  # keys are per tenant
        assert s.events.list() == [] and s.domain_sets.list() == []
        assert s.personas.delete(p.id) is False and s.runs.delete(run.id) is False
        assert s.cache.delete("k") is False and s.events.partitions()  # catalog: visible


def test_cleanup_of_one_tenant_drops_no_partition(store: pgrecall.Store) -> None:
    with store.session(tenant="t1") as s:
        s.events.create_partitions(from_day=(datetime.now(UTC) - timedelta(days=20)).date(), days=1)
    report = cleanup(store, tenant="t1", events_days=5)
    assert report.partitions_dropped == {} and report.events_deleted_from_default == 0
    assert cleanup(store, events_days=5).partitions_dropped != {}
