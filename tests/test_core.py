"""Users, conversations and messages through the session API."""

from __future__ import annotations

import pytest

import pgrecall
from pgrecall import ConflictError, NotFoundError, TenantMissingError, ValidationError
from pgrecall.areas.messages import MAX_CONTENT


def test_conversation_lifecycle(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1", title="Research", llm_config={"model": "m"})
        assert c.status == "active" and c.message_count == 0 and c.llm_config == {"model": "m"}
        assert s.users.get("u1").user_id == "u1"  # created on first use
        assert s.conversations.rename(c.id, "Renamed").title == "Renamed"
        archived = s.conversations.archive(c.id)
        assert archived.status == "archived" and archived.archived_at is not None
        assert s.conversations.unarchive(c.id).archived_at is None
        deleted = s.conversations.delete(c.id)
        assert deleted.status == "deleted" and deleted.deleted_at is not None
        with pytest.raises(ConflictError, match="is deleted: cannot become archived"):
            s.conversations.archive(c.id)  # raised in Python: the transaction goes on
        assert s.conversations.restore(c.id).status == "active"
        assert s.conversations.close(c.id).closed_at is not None
        with pytest.raises(ConflictError, match="is closed"), s.savepoint():
            s.messages.append(c.id, role="user", content="late")  # refused by the trigger
        assert s.conversations.purge(c.id) is True
        assert s.conversations.find(c.id) is None
        with pytest.raises(NotFoundError):
            s.conversations.archive(c.id)


def test_list_pages_by_recency_with_status_filter(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        convs = [s.conversations.create(user_id="u1", title=f"c{i}") for i in range(5)]
        s.messages.append(convs[1].id, role="user", content="bump")  # most recent activity
        s.conversations.archive(convs[3].id)
        s.conversations.delete(convs[4].id)
        s.conversations.create(user_id="u2", title="other user")
        live = [s.conversations.get(c.id) for c in convs[:4]]
        expected = [c.title for c in sorted(live, key=lambda c: (c.activity_at, c.id))][::-1]
        assert expected[0] == "c1"  # the message made it the most recent
        first = s.conversations.list("u1", limit=2)
        rest = s.conversations.list("u1", limit=10, after=first[-1])
        assert [c.title for c in first + rest] == expected
        assert [c.title for c in s.conversations.list("u1", statuses=["deleted"])] == ["c4"]
        with pytest.raises(ValidationError):
            s.conversations.list("u1", statuses=["gone"])  # type: ignore[list-item]


def test_append_history_and_counters(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        for i in range(30):
            s.messages.append(c.id, role="user" if i % 2 else "assistant", content=f"m{i}")
        last = s.messages.last(c.id, n=5)
        assert [m.seq for m in last] == [26, 27, 28, 29, 30]
        page = s.messages.page(c.id, after_seq=10, limit=3)
        assert [m.content for m in page] == ["m10", "m11", "m12"]
        assert s.messages.count_by_role(c.id) == {"assistant": 15, "user": 15}
        conv = s.conversations.get(c.id)
        assert conv.message_count == 30 and conv.last_message_at == last[-1].created_at
        assert s.messages.get(last[0].id) == last[0]


def test_append_is_idempotent_by_request_id(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        first = s.messages.append(c.id, role="user", content="hi", request_id="r-1")
        again = s.messages.append(c.id, role="user", content="hi (retry)", request_id="r-1")
        assert again == first
        assert s.conversations.get(c.id).message_count == 1
    with store.session(tenant="acme") as s:  # a later transaction too
        assert s.messages.append(c.id, role="user", content="x", request_id="r-1").id == first.id


def test_by_source_and_usage_fields(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        m = s.messages.append(
            c.id,
            role="assistant",
            content="answer",
            thinking="because",
            model="m1",
            input_tokens=100,
            output_tokens=20,
            latency_ms=350,
            source="slack",
            metadata={"tool_calls": [{"name": "search"}]},
        )
        s.messages.append(c.id, role="user", content="web one", source="web")
        assert [x.id for x in s.messages.by_source("slack")] == [m.id]
        assert m.thinking == "because" and m.metadata["tool_calls"][0]["name"] == "search"
        assert m.token_count == 2  # estimated from 6 characters


def test_context_window_budget(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        s.messages.append(c.id, role="system", content="sys", token_count=10)
        for i in range(10):
            s.messages.append(c.id, role="user", content=f"m{i}", token_count=25)
        window = s.messages.context(c.id, max_tokens=100)
        assert [m.seq for m in window] == [1, 9, 10, 11]  # 10 + 3 * 25 fits, 4 * 25 would not
        assert [m.seq for m in s.messages.context(c.id, max_tokens=1000, max_messages=2)] == [
            1,
            10,
            11,
        ]
        assert [m.seq for m in s.messages.context(c.id, max_tokens=5)] == [1]  # prompt kept
        empty = s.conversations.create(user_id="u1")
        assert s.messages.context(empty.id, max_tokens=100) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"role": "wizard", "content": "x"}, "unknown role"),
        ({"role": "user", "content": "nul\x00byte"}, "NUL"),
        ({"role": "user", "content": "lone \ud800 surrogate"}, "surrogate"),
        ({"role": "user", "content": "x" * (MAX_CONTENT + 1)}, "longer than"),
        ({"role": "user", "content": "x", "metadata": {"k": "\x00"}}, "NUL"),
        ({"role": "user", "content": "x", "metadata": {"k": float("nan")}}, "nan"),
        ({"role": "user", "content": "x", "metadata": ["not", "object"]}, "JSON object"),
        ({"role": "user", "content": "x", "token_count": -1}, "token_count"),
        ({"role": "user", "content": "x", "request_id": ""}, "request_id"),
    ],
    ids=["role", "nul", "surrogate", "oversize", "json-nul", "json-nan", "json-list", "neg", "rid"],
)
def test_bad_input_is_rejected_and_nothing_written(
    store: pgrecall.Store, kwargs: dict[str, object], error: str
) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        with pytest.raises(ValidationError, match=error):
            s.messages.append(c.id, **kwargs)  # type: ignore[arg-type]
        assert s.conversations.get(c.id).message_count == 0
        assert s.messages.last(c.id) == []


@pytest.mark.parametrize(
    ("tenant", "error"),
    [
        ("", TenantMissingError),  # README: TenantMissingError for an empty tenant
        ("   ", TenantMissingError),
        (None, TenantMissingError),
        ("a\x00b", ValidationError),  # a NUL byte is bad input (ValidationError)
        ("t" * 201, ValidationError),  # longer than a tenant id may be
    ],
    ids=repr,
)
def test_bad_tenant(
    store: pgrecall.Store, tenant: str | None, error: type[pgrecall.PgRecallError]
) -> None:
    with pytest.raises(error) as raised, store.session(tenant=tenant):  # type: ignore[arg-type]
        pass
    assert type(raised.value) is error


def test_messages_are_immutable(store: pgrecall.Store) -> None:
    upd = pgrecall.Query.from_string("u", "exec", "UPDATE pgrecall.messages SET content = 'x'")
    dele = pgrecall.Query.from_string("d", "exec", "DELETE FROM pgrecall.messages")
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        s.messages.append(c.id, role="user", content="keep")
    for q in (upd, dele):
        with (
            pytest.raises(ConflictError, match="immutable") as err,
            store.session(tenant="acme") as s,
        ):
            s.db.execute(q)
        assert err.value.sqlstate == "PR409"


def test_unknown_conversation(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        with pytest.raises(NotFoundError), s.savepoint():
            s.messages.append("00000000-0000-7000-8000-000000000000", role="user", content="x")
        with pytest.raises(ValidationError, match="not a UUID"):
            s.conversations.get("nope")


async def test_async_session(astore: pgrecall.AsyncStore) -> None:
    async with astore.session(tenant="acme") as s:
        c = await s.conversations.create(user_id="u1", title="async")
        await s.messages.append(c.id, role="user", content="hi", request_id="a")
        await s.messages.append(c.id, role="assistant", content="hello")
        msgs = await s.messages.last(c.id)
        assert [m.content for m in msgs] == ["hi", "hello"]
        assert (await s.conversations.get(c.id)).message_count == 2


def test_store_append_message_fast_path(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
    first = store.append_message("acme", c.id, role="user", content="hi", request_id="q-1")
    again = store.append_message("acme", c.id, role="user", content="hi", request_id="q-1")
    other = store.append_message("acme", c.id, role="assistant", content="hello", model="m")
    assert again == first and (first.seq, other.seq) == (1, 2)
    with pytest.raises(ValidationError, match="unknown role"):
        store.append_message("acme", c.id, role="robot", content="x")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.append_message("globex", c.id, role="user", content="other tenant")
    with store.session(tenant="acme") as s:
        s.conversations.close(c.id)
    with pytest.raises(ConflictError, match="closed"):
        store.append_message("acme", c.id, role="user", content="late")
    with store.session(tenant="acme") as s:
        assert s.conversations.get(c.id).message_count == 2
        assert [m.content for m in s.messages.last(c.id)] == ["hi", "hello"]


async def test_async_append_message(astore: pgrecall.AsyncStore) -> None:
    async with astore.session(tenant="acme") as s:
        c = await s.conversations.create(user_id="u1")
    m = await astore.append_message("acme", c.id, role="user", content="hi", request_id="z")
    assert (
        await astore.append_message("acme", c.id, role="user", content="hi", request_id="z")
    ) == m
