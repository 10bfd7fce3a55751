"""The LangChain adapters beyond the standard suites: string ids, filters, hybrid and
MMR search, tenancy, model declaration, AsyncStore rules, chat history round trips and
clear(), the byte store's key walk, the cache's TTL / clear / chat generations."""

from __future__ import annotations

import itertools
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, Generation

import pgrecall
from pgrecall import ConfigurationError, ConflictError, NotFoundError, ValidationError
from pgrecall.integrations.langchain import (
    PgRecallByteStore,
    PgRecallCache,
    PgRecallChatMessageHistory,
    PgRecallRetriever,
    PgRecallVectorStore,
)
from pgrecall.integrations.langchain.stores import KEY_PAGE
from pgrecall.integrations.langchain.vectorstore import row_id
from pgrecall.testing import clone_database, drop_database

EMB = DeterministicFakeEmbedding(size=8)
Q_EXPIRE = pgrecall.Query.from_string(
    "expire",
    "exec",
    "UPDATE pgrecall.cache SET expires_at = now() - interval '1 second' WHERE tenant_id = :t",
)


# One database for the module (the plugin's store / astore clone one per test); each
# test works in a tenant of its own.
@pytest.fixture(scope="module")
def lc_url(pg_url: str, template_db: str) -> Iterator[str]:
    url = clone_database(pg_url, template_db)
    yield url
    drop_database(pg_url, urlsplit(url).path.lstrip("/"))


@pytest.fixture(scope="module")
def store(lc_url: str) -> Iterator[pgrecall.Store]:
    with pgrecall.connect(lc_url, pool_min_size=0, pool_max_size=4) as s:
        yield s


@pytest.fixture
async def astore(lc_url: str) -> AsyncIterator[pgrecall.AsyncStore]:
    async with await pgrecall.connect_async(lc_url, pool_min_size=0, pool_max_size=2) as s:
        yield s


@pytest.fixture
def t() -> str:
    return f"lc-{uuid.uuid4().hex[:12]}"


class Axes(Embeddings):
    """Words -> fixed directions: texts sharing a first word point the same way."""

    AXES: ClassVar[dict[str, int]] = {"red": 0, "green": 1, "blue": 2, "gray": 3}

    def _vec(self, text: str) -> list[float]:
        v = [0.01] * 4
        v[self.AXES.get(text.split()[0], 3)] = 1.0
        return v

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


def vs(store: pgrecall.Store | pgrecall.AsyncStore, t: str, **kw: Any) -> PgRecallVectorStore:
    args: dict[str, Any] = dict(tenant=t, embedding=EMB, model="fake-8")
    return PgRecallVectorStore(store, **{**args, **kw})


def test_string_ids_upsert_get_delete(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t)
    ids = v.add_texts(["one", "two", "three"], [{"n": 1}, {"n": 2}, {}], ids=["a/1", "é ✓", "x"])
    assert ids == ["a/1", "é ✓", "x"]
    assert [d.id for d in v.get_by_ids(["x", "missing", "a/1"])] == ["x", "a/1"]
    # add-by-id replaces; a repeated id in one call keeps its last text
    assert v.add_texts(["ONE", "uno"], [{"n": 10}, {"n": 11}], ids=["a/1", "a/1"]) == ["a/1"] * 2
    (doc,) = v.get_by_ids(["a/1"])
    assert doc == Document(id="a/1", page_content="uno", metadata={"n": 11})
    with store.session(tenant=t) as s:
        assert s.embeddings.count(model="fake-8") == 3
        assert s.embeddings.get(row_id("fake-8", "x")).source == {"lc_id": "x"}
    assert v.delete(["x", "never-there"]) is True
    assert [d.id for d in v.get_by_ids(["x", "é ✓"])] == ["é ✓"]
    generated = v.add_documents([Document(page_content="four")])
    assert len(generated) == 1 and v.get_by_ids(generated)[0].page_content == "four"


def test_write_validation(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t)
    with pytest.raises(ValidationError, match="reserved"):
        v.add_texts(["t"], [{"lc_id": "mine"}])
    with pytest.raises(ValidationError, match="ids for"):
        v.add_texts(["t", "u"], ids=["only-one"])
    with pytest.raises(ValidationError, match="needs ids"):
        v.delete()
    with pytest.raises(ValidationError, match="not one string"):
        v.get_by_ids("abc")
    with pytest.raises(ValidationError, match="k must be"):
        v.similarity_search("q", k=0)
    assert v.add_texts([]) == []


def test_model_declared_on_first_use_with_dimension(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t, model="lazy")
    assert v.similarity_search("nothing yet") == []  # first use: declared, empty
    with store.session(tenant=t) as s:
        assert s.embeddings.model("lazy").dimensions == 8
    other = vs(store, t, model="lazy", embedding=DeterministicFakeEmbedding(size=5))
    with pytest.raises(ValidationError, match="8 dimensions, not 5"):
        other.add_texts(["x"])


def test_tenants_and_models_are_separate_collections(store: pgrecall.Store, t: str) -> None:
    a, b, c = vs(store, t), vs(store, t + "-other"), vs(store, t, model="fake-8b")
    for v, text in ((a, "in a"), (b, "in b"), (c, "in c")):
        v.add_texts([text], ids=["same-id"])
    assert [d.page_content for d in a.get_by_ids(["same-id"])] == ["in a"]
    assert [d.page_content for d in b.similarity_search("in a", k=5)] == ["in b"]
    assert [d.page_content for d in c.similarity_search("in a", k=5)] == ["in c"]


def test_rls_as_the_app_role(app_store: pgrecall.Store) -> None:
    vs(app_store, "t1").add_texts(["t1 text"])
    assert vs(app_store, "t2").similarity_search("t1 text") == []
    assert len(vs(app_store, "t1").similarity_search("t1 text")) == 1


def test_filters(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t)
    metas = [{"year": 2000 + i, "genre": "sf" if i % 2 else "crime"} for i in range(10)]
    v.add_texts([f"book {i}" for i in range(10)], metas, ids=[str(i) for i in range(10)])

    def ids(flt: dict[str, Any], k: int = 10) -> list[str]:
        return sorted(str(d.id) for d in v.similarity_search("book", k=k, filter=flt))

    assert ids({"genre": "sf"}) == ["1", "3", "5", "7", "9"]
    assert ids({"year": {"$gte": 2007}}) == ["7", "8", "9"]
    assert ids({"year": {"$in": [2001, 2002]}, "genre": "crime"}) == ["2"]
    assert ids({"$or": [{"year": 2000}, {"year": {"$between": [2008, 2009]}}]}) == ["0", "8", "9"]
    assert ids({"genre": {"$ne": "sf"}}, k=2) != []  # k rows come back under a filter
    assert len(ids({"genre": {"$ne": "sf"}}, k=2)) == 2
    hybrid = v.hybrid_search("book", k=10, filter={"genre": "sf", "year": {"$lt": 2004}})
    assert sorted(str(d.id) for d in hybrid) == ["1", "3"]
    with pytest.raises(ValidationError):
        v.similarity_search("book", filter={"bad key'; --": 1})
    with pytest.raises(ValidationError, match="must be a dict"):
        v.similarity_search("book", filter=[("genre", "sf")])


def test_hybrid_search_and_retriever(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t, embedding=Axes())
    texts = ["red cherries", "green pear with cherries", "blue sky", "gray stone"]
    v.add_texts(texts, [{"i": i} for i in range(4)])
    # the vector alone ranks "gray stone" first; the keyword lifts both cherries texts
    assert [d.page_content for d in v.similarity_search("cherries", k=1)] == ["gray stone"]
    scored = v.hybrid_search_with_score("cherries", k=3)
    assert {d.page_content for d, _ in scored[:2]} == {"red cherries", "green pear with cherries"}
    assert scored[2][0].page_content == "gray stone"
    assert all(a >= b for (_, a), (_, b) in itertools.pairwise(scored))
    assert v.search("red cherries", "hybrid", k=1)[0].page_content == "red cherries"
    retriever = v.as_retriever()
    assert isinstance(retriever, PgRecallRetriever) and retriever.search_type == "hybrid"
    assert len(retriever.invoke("cherries", k=2)) == 2
    assert len(retriever.invoke("cherries", filter={"i": 3})) == 1
    mmr = v.as_retriever(search_type="mmr", search_kwargs={"fetch_k": 4})
    assert len(mmr.invoke("red", k=2)) == 2
    with pytest.raises(ValidationError, match="unknown hybrid"):
        v.hybrid_search("x", bogus=1)


def test_mmr_prefers_diverse_results(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t, embedding=Axes())
    v.add_texts(["red one", "red two", "red three", "green one"])
    plain = v.similarity_search("red", k=2)
    assert all(d.page_content.startswith("red") for d in plain)
    diverse = v.max_marginal_relevance_search("red", k=2, fetch_k=4, lambda_mult=0.1)
    assert {d.page_content.split()[0] for d in diverse} == {"red", "green"}


def test_relevance_scores_stay_in_range(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t)
    v.add_texts([f"text {i}" for i in range(20)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scored = v.similarity_search_with_relevance_scores("text 3", k=20)
    assert len(scored) == 20 and all(0.0 <= s <= 1.0 for _, s in scored)
    assert scored[0][0].page_content == "text 3" and scored[0][1] == pytest.approx(1.0, abs=1e-6)
    (best, distance), *_ = v.similarity_search_with_score("text 3")
    assert best.page_content == "text 3" and distance == pytest.approx(0.0, abs=1e-6)


async def test_async_store_is_native_and_refuses_sync_calls(
    astore: pgrecall.AsyncStore, t: str
) -> None:
    v = vs(astore, t)
    ids = await v.aadd_texts(["alpha", "beta"], ids=["a", "b"])
    assert [d.id for d in await v.asimilarity_search("alpha", k=1)] == ["a"]
    assert len(await v.amax_marginal_relevance_search("alpha", k=2)) == 2
    assert len(await v.ahybrid_search("beta", k=1)) == 1
    assert len(await v.as_retriever().ainvoke("beta")) == 2
    await v.adelete(ids[:1])
    assert [d.id for d in await v.aget_by_ids(ids)] == ["b"]
    with pytest.raises(ConfigurationError, match="AsyncStore"):
        v.similarity_search("alpha")
    made = await PgRecallVectorStore.afrom_texts(
        ["gamma"], EMB, [{"g": 1}], ids=["g"], store=astore, tenant=t, model="fake-8"
    )
    assert [d.metadata for d in await made.aget_by_ids(["g"])] == [{"g": 1}]


def test_from_texts(store: pgrecall.Store, t: str) -> None:
    v = PgRecallVectorStore.from_texts(["x", "y"], EMB, store=store, tenant=t, model="fake-8")
    assert len(v.similarity_search("x", k=5)) == 2
    with pytest.raises(ValidationError, match="needs store"):
        PgRecallVectorStore.from_texts(["x"], EMB)


async def test_sync_store_async_methods_run_in_executor(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t)
    await v.aadd_texts(["alpha"], ids=["a"])
    assert [d.id for d in v.similarity_search("alpha")] == ["a"]
    assert [d.id for d in await v.ahybrid_search("alpha")] == ["a"]


def test_adapters_check_store_and_tenant(store: pgrecall.Store, t: str) -> None:
    with pytest.raises(ValidationError, match=r"pgrecall\.Store"):
        PgRecallCache("postgresql://x", tenant=t)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tenant"):
        PgRecallByteStore(store, tenant=" ")


# -- chat history ---------------------------------------------------------------------


def conversation(store: pgrecall.Store, t: str) -> PgRecallChatMessageHistory:
    return PgRecallChatMessageHistory.create(store, tenant=t, user_id="u1", title="Chat")


def test_messages_round_trip(store: pgrecall.Store, t: str) -> None:
    h = conversation(store, t)
    call = {"name": "search", "args": {"q": "pg"}, "id": "call-1", "type": "tool_call"}
    messages: list[BaseMessage] = [
        SystemMessage("Be brief."),
        HumanMessage("hi", additional_kwargs={"lang": "en"}, name="ana"),
        AIMessage(
            "",
            tool_calls=[call],
            usage_metadata={"input_tokens": 12, "output_tokens": 3, "total_tokens": 15},
            response_metadata={"model_name": "gpt-x", "finish_reason": "tool_calls"},
            id="run-1",
        ),
        ToolMessage("3 results", tool_call_id="call-1", artifact={"rows": 3}),
        FunctionMessage(content="legacy", name="fn"),
        ChatMessage(content="a note", role="critic"),
        ChatMessage(content="as assistant", role="assistant"),
        HumanMessage([{"type": "text", "text": "look"}, {"type": "image", "url": "x.png"}]),
    ]
    h.add_messages(messages)
    assert h.messages == messages
    with store.session(tenant=t) as s:
        rows = s.messages.last(h.conversation_id, 20)
    assert [r.role for r in rows] == [
        "system", "user", "assistant", "tool", "tool", "user", "assistant", "user"
    ]
    ai = rows[2]
    assert (ai.model, ai.input_tokens, ai.output_tokens, ai.request_id) == ("gpt-x", 12, 3, "run-1")
    assert rows[7].content == "look"  # list content: its text in the column
    h.add_message(messages[2])  # the same message id again: a retry, not a new row
    assert len(h.messages) == len(messages)
    assert PgRecallChatMessageHistory(
        store, tenant=t, conversation_id=h.conversation_id, last=2
    ).messages == messages[-2:]


def test_rows_written_by_pgrecall_read_as_messages(store: pgrecall.Store, t: str) -> None:
    h = conversation(store, t)
    with store.session(tenant=t) as s:
        for role in ("system", "user", "assistant"):
            s.messages.append(h.conversation_id, role=role, content=role)
        s.messages.append(
            h.conversation_id, role="tool", content="out", metadata={"tool_call_id": "c9"}
        )
    got = h.messages
    assert [type(m) for m in got] == [SystemMessage, HumanMessage, AIMessage, ToolMessage]
    assert isinstance(got[3], ToolMessage) and got[3].tool_call_id == "c9"
    assert all(m.id for m in got)


def test_clear_continues_in_a_new_conversation(store: pgrecall.Store, t: str) -> None:
    h = conversation(store, t)
    h.add_messages([HumanMessage("before")])
    old = h.conversation_id
    h.clear()
    assert h.conversation_id != old and h.messages == []
    h.add_messages([HumanMessage("after")])
    with store.session(tenant=t) as s:
        assert s.conversations.get(old).status == "deleted"
        new = s.conversations.get(h.conversation_id)
        assert (new.user_id, new.title) == ("u1", "Chat")
        assert new.metadata["previous_conversation_id"] == str(old)
        s.conversations.restore(old)  # nothing was lost
    assert [m.content for m in PgRecallChatMessageHistory(
        store, tenant=t, conversation_id=old
    ).messages] == ["before"]


def test_chat_errors(store: pgrecall.Store, t: str) -> None:
    missing = PgRecallChatMessageHistory(
        store, tenant=t, conversation_id="00000000-0000-7000-8000-000000000000"
    )
    with pytest.raises(NotFoundError):
        _ = missing.messages
    with pytest.raises(ValidationError, match="not a UUID"):
        PgRecallChatMessageHistory(store, tenant=t, conversation_id="nope")
    h = conversation(store, t)
    h.add_messages([HumanMessage("kept")])
    with pytest.raises(ValidationError, match="NUL"):
        h.add_messages([HumanMessage("ok"), HumanMessage("bad\x00")])
    assert [m.content for m in h.messages] == ["kept"]  # all or nothing
    with store.session(tenant=t) as s:
        s.conversations.close(h.conversation_id)
    with pytest.raises(ConflictError):
        h.add_messages([HumanMessage("closed")])
    with pytest.raises(AttributeError, match="append-only"):
        h.messages = []


async def test_chat_history_async(astore: pgrecall.AsyncStore, t: str) -> None:
    h = await PgRecallChatMessageHistory.acreate(astore, tenant=t, user_id="u1")
    await h.aadd_messages([HumanMessage("hi"), AIMessage("hello")])  # one transaction
    await h.aadd_messages([HumanMessage("one", id="m-1")])  # one round trip
    await h.aadd_messages([HumanMessage("one", id="m-1")])  # a retry: no new row
    await h.aadd_messages([])
    assert [m.content for m in await h.aget_messages()] == ["hi", "hello", "one"]
    old = h.conversation_id
    await h.aclear()
    assert h.conversation_id != old and await h.aget_messages() == []


# -- byte store and cache -------------------------------------------------------------


def test_byte_store_namespaces_and_key_pages(store: pgrecall.Store, t: str) -> None:
    a = PgRecallByteStore(store, tenant=t, namespace="a")
    b = PgRecallByteStore(store, tenant=t, namespace="b")
    keys = [f"k{i:05d}" for i in range(KEY_PAGE + 5)]
    a.mset([(k, k.encode()) for k in keys])
    assert list(a.yield_keys()) == keys  # more than one page, in order
    assert list(a.yield_keys(prefix="k0100")) == keys[1000:1005]
    assert list(b.yield_keys()) == [] and b.mget(["k00001"]) == [None]
    with pytest.raises(ValidationError, match="namespace"):
        PgRecallByteStore(store, tenant=t, namespace="")


async def test_byte_store_async_key_pages(astore: pgrecall.AsyncStore, t: str) -> None:
    s = PgRecallByteStore(astore, tenant=t)
    keys = [f"k{i:05d}" for i in range(KEY_PAGE + 1)]
    await s.amset([(k, b"v") for k in keys])
    assert [k async for k in s.ayield_keys()] == keys


def test_cache_ttl_chat_generations_and_clear(store: pgrecall.Store, t: str) -> None:
    cache = PgRecallCache(store, tenant=t, ttl=60)
    chat = [ChatGeneration(message=AIMessage("hi", id="m1"), generation_info={"f": 1})]
    cache.update("prompt", "llm-a", chat)
    assert cache.lookup("prompt", "llm-a") == chat
    assert cache.lookup("prompt", "llm-b") is None  # the LLM config is part of the key
    with store.session(tenant=t) as s:
        s.cache.set("mine", {"keep": True})
        s.db.execute(Q_EXPIRE, t=t)
    assert cache.lookup("prompt", "llm-a") is None  # expired
    cache.update("p2", "llm-a", [Generation(text="x")])
    cache.clear()
    assert cache.lookup("p2", "llm-a") is None
    with store.session(tenant=t) as s:
        assert s.cache.peek("mine") is not None  # clear() touches only its own prefix
    with pytest.raises(ValidationError, match="Generation"):
        cache.update("p", "l", ["text"])  # type: ignore[list-item]


def test_vectors_go_in_as_numpy_too(store: pgrecall.Store, t: str) -> None:
    v = vs(store, t)
    vec = np.asarray(EMB.embed_query("np"), dtype=np.float32).tolist()
    v.add_texts(["np"], ids=["n"])
    assert [d.id for d in v.similarity_search_by_vector(vec, k=1)] == ["n"]
