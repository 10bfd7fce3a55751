"""Personas, modules in execution order, conversation state, domain sets."""

from __future__ import annotations

import threading

import pytest

import pgrecall
from pgrecall import ConflictError, NotFoundError, ValidationError


def test_personas_and_their_modules_in_order(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        p = s.personas.create(
            "Ada",
            template="You are Ada.",
            mode="reactive",
            loop_frequency="5m",
            first_message="Hello!",
            image_path="/img/ada.png",
            metadata={"tone": "warm"},
        )
        assert p.active and p.first_message == "Hello!"
        with pytest.raises(ConflictError), s.savepoint():
            s.personas.create("Ada", template="dup")
        post = s.modules.create(
            "summarise",
            type="advanced",
            execution_context="post_response",
            script="run()",
            requires_ai_inference=True,
        )
        late = s.modules.create("style", type="simple", content="Be brief.", stage_priority=200)
        early = s.modules.create("safety", type="simple", content="Be safe.", stage_priority=10)
        tie_b = s.modules.create("tie_b", type="simple", content="b", stage_priority=50)
        tie_a = s.modules.create("tie_a", type="simple", content="a", stage_priority=50)
        off = s.modules.create("off", type="simple", content="x", active=False)
        for m in (post, late, early, off):
            s.personas.attach(p.id, m.id)
        s.personas.attach(p.id, tie_b.id, position=1)
        s.personas.attach(p.id, tie_a.id, position=2)
        order = [m.name for m in s.personas.modules(p.id)]
        assert order == ["safety", "tie_b", "tie_a", "style", "summarise"]
        s.personas.attach(p.id, tie_a.id, position=0)  # re-attach moves it
        assert [m.name for m in s.personas.modules(p.id)][1:3] == ["tie_a", "tie_b"]
        assert [m.name for m in s.personas.modules(p.id, execution_context="post_response")] == [
            "summarise"
        ]
        assert "off" in [m.name for m in s.personas.modules(p.id, include_inactive=True)]
        assert s.personas.detach(p.id, late.id) is True
        assert s.modules.update(post.id, clear_content=True, stage_priority=5).stage_priority == 5
        assert s.modules.by_name("style") == late
        assert s.modules.list(execution_context="immediate")[0].name == "safety"
        updated = s.personas.update(p.id, description="A helper", metadata={"lang": "en"})
        assert updated.metadata == {"tone": "warm", "lang": "en"}
        assert updated.template == "You are Ada." and updated.updated_at >= p.updated_at
        assert s.personas.by_name("Ada") == updated
        assert s.personas.list() == [updated]
        with pytest.raises(ValidationError, match="execution_context"):
            s.modules.create("bad", type="t", execution_context="later")  # type: ignore[arg-type]


def test_conversation_persona_foreign_key(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        p = s.personas.create("Bob", template="t")
        c = s.conversations.create(user_id="u1", persona_id=p.id)
        s.states.set(c.id, "mood", "happy", persona_id=p.id)
        assert s.personas.delete(p.id) is True
        assert s.conversations.get(c.id).persona_id is None  # kept, link cleared
        assert s.states.list(c.id) == []  # the persona's state went with it
        with pytest.raises(ConflictError), s.savepoint():
            s.conversations.create(user_id="u1", persona_id=p.id)  # no such persona
    with store.session(tenant="other") as s, pytest.raises(ConflictError):
        s.conversations.create(user_id="u1", persona_id=c.id)  # not across tenants


def test_states_upsert_get_list_delete(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        p = s.personas.create("P", template="t")
        m = s.modules.create("M", type="simple")
        first = s.states.set(c.id, "counter", 1, persona_id=p.id, module_id=m.id)
        second = s.states.set(c.id, "counter", 2, persona_id=p.id, module_id=m.id)
        assert second.id == first.id and second.value == 2
        s.states.set(c.id, "counter", 100)  # conversation-wide: another key space
        s.states.set(c.id, "notes", {"a": 1}, persona_id=p.id)
        assert s.states.value(c.id, "counter") == 100
        assert s.states.value(c.id, "counter", persona_id=p.id, module_id=m.id) == 2
        assert s.states.value(c.id, "nothing", default="d") == "d"
        merged = s.states.merge(c.id, "notes", {"b": 2}, persona_id=p.id)
        assert merged.value == {"a": 1, "b": 2}
        assert len(s.states.list(c.id)) == 3
        assert [x.key for x in s.states.list(c.id, module_id=m.id)] == ["counter"]
        assert s.states.delete(c.id, "counter") is True
        assert s.states.value(c.id, "counter", persona_id=p.id, module_id=m.id) == 2
        assert s.states.clear(c.id, persona_id=p.id) == 2
        assert s.states.list(c.id) == []
        s.states.set(c.id, "k", True)
        assert s.conversations.purge(c.id)
        assert s.states.list(c.id) == []  # cascade


def test_concurrent_state_upserts_and_merges(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
    n = 8
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(5):
                with store.session(tenant="acme") as s:
                    s.states.set(c.id, "last", {"writer": i, "j": j})
                    s.states.merge(c.id, "seen", {f"w{i}_{j}": True})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session(tenant="acme") as s:
        assert len(s.states.list(c.id)) == 2  # one row per key, never a duplicate
        assert len(s.states.value(c.id, "seen")) == n * 5  # no merge was lost


def test_domain_sets(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        d = s.domain_sets.create(
            "standards",
            ["ISO.org", "https://www.iec.ch/about", "iso.org", "*.europa.eu"],
            description="Standards bodies",
            metadata={"region": "global"},
        )
        assert d.domains == ["iso.org", "www.iec.ch", "*.europa.eu"]
        s.domain_sets.create("news", ["bbc.co.uk"], active=False)
        assert [x.name for x in s.domain_sets.list()] == ["standards"]
        assert len(s.domain_sets.list(include_inactive=True)) == 2
        assert [x.name for x in s.domain_sets.containing("ISO.ORG")] == ["standards"]
        u = s.domain_sets.update(d.id, add=["nist.gov", "iso.org"], remove=["www.iec.ch"])
        assert u.domains == ["iso.org", "*.europa.eu", "nist.gov"]
        assert s.domain_sets.update(d.id, domains=["a.com"]).domains == ["a.com"]
        assert s.domain_sets.by_name("standards") is not None
        assert s.domain_sets.delete(d.id) and s.domain_sets.by_name("standards") is None
        with pytest.raises(NotFoundError):
            s.domain_sets.get(d.id)
        for bad in (["not a domain"], ["a..b"], "iso.org"):
            with pytest.raises(ValidationError):
                s.domain_sets.create("bad", bad)
