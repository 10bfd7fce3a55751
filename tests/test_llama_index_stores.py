"""Contract tests of PgRecallKVStore (with LlamaIndex's document and index stores on it)
and PgRecallChatStore (append-only history, rewrites as new conversations)."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.data_structs import IndexDict
from llama_index.core.schema import Document, TextNode
from llama_index.core.storage.docstore.keyval_docstore import KVDocumentStore
from llama_index.core.storage.index_store.keyval_index_store import KVIndexStore
from llama_index.core.vector_stores.types import VectorStoreQuery

import pgrecall
from pgrecall.errors import ConfigurationError, ValidationError
from pgrecall.integrations.llama_index import (
    PgRecallChatStore,
    PgRecallKVStore,
    PgRecallVectorStore,
    kv_store,
)

# -- KV store --------------------------------------------------------------------------


def test_kv_put_get_all_delete_per_collection(
    store: pgrecall.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kv_store, "WRITE_BATCH", 400)  # put_all below takes 4 statements
    kv = PgRecallKVStore(store, tenant="acme")
    assert kv.get("a") is None and kv.get_all() == {}
    kv.put("a", {"x": 1, "nested": {"y": [1, 2]}})
    kv.put("a", {"x": 2})  # replaces
    kv.put("b", {"é": "ü"}, collection="other")
    kv.put_all([(f"k{i:04d}", {"i": i}) for i in range(1500)], collection="big")
    assert kv.get("a") == {"x": 2}
    assert kv.get("b") is None and kv.get("b", collection="other") == {"é": "ü"}
    big = kv.get_all(collection="big")
    assert len(big) == 1500 and big["k1499"] == {"i": 1499}  # more than one page
    assert kv.delete("a") is True and kv.delete("a") is False and kv.get("a") is None
    assert PgRecallKVStore(store, tenant="other").get("b", collection="other") is None
    with pytest.raises(ValidationError, match="dict"):
        kv.put("c", [1, 2])  # type: ignore[arg-type]


async def test_kv_async_on_both_stores(store: pgrecall.Store, astore: pgrecall.AsyncStore) -> None:
    for kv in (PgRecallKVStore(astore, tenant="acme"), PgRecallKVStore(store, tenant="t2")):
        await kv.aput("a", {"v": 1})
        await kv.aput_all([("b", {"v": 2}), ("c", {"v": 3})])
        assert await kv.aget("a") == {"v": 1}
        assert await kv.aget_all() == {"a": {"v": 1}, "b": {"v": 2}, "c": {"v": 3}}
        assert await kv.adelete("b") is True and await kv.adelete("b") is False
    with pytest.raises(ConfigurationError, match="async methods"):
        PgRecallKVStore(astore, tenant="acme").get("a")


def test_document_and_index_store_on_the_kv_store(store: pgrecall.Store) -> None:
    docstore = KVDocumentStore(PgRecallKVStore(store, tenant="acme"))
    doc = Document(text="harbour cranes", id_="doc-1", metadata={"lang": "en"})
    node = TextNode(text="cranes", id_="node-1")
    node.relationships = {"1": doc.as_related_node_info()}  # type: ignore[dict-item]
    docstore.add_documents([doc, node])
    stored = docstore.get_document("doc-1")
    assert isinstance(stored, Document) and stored.text == doc.text
    assert set(docstore.docs) == {"doc-1", "node-1"}
    ref = docstore.get_ref_doc_info("doc-1")
    assert ref is not None and ref.node_ids == ["node-1"]
    assert docstore.get_document_hash("doc-1") == doc.hash
    docstore.delete_ref_doc("doc-1")
    assert not docstore.document_exists("node-1") and docstore.get_ref_doc_info("doc-1") is None
    again = KVDocumentStore(PgRecallKVStore(store, tenant="acme"))  # persisted, not in memory
    assert again.docs == {}

    index_store = KVIndexStore(PgRecallKVStore(store, tenant="acme"))
    struct = IndexDict(index_id="idx-1")
    struct.add_node(TextNode(text="x", id_="n"), text_id="n")
    index_store.add_index_struct(struct)
    got = KVIndexStore(PgRecallKVStore(store, tenant="acme")).get_index_struct("idx-1")
    assert isinstance(got, IndexDict) and got.nodes_dict == {"n": "n"}
    index_store.delete_index_struct("idx-1")
    assert index_store.index_structs() == []


# -- chat store ------------------------------------------------------------------------


def msgs(*texts: str) -> list[ChatMessage]:
    roles = [MessageRole.USER, MessageRole.ASSISTANT]
    return [ChatMessage(role=roles[i % 2], content=t) for i, t in enumerate(texts)]


def contents(messages: list[ChatMessage] | None) -> list[str | None]:
    return [m.content for m in messages or []]


def test_chat_store_round_trip_and_honest_rewrites(store: pgrecall.Store) -> None:
    chat = PgRecallChatStore(store, tenant="acme")
    assert chat.get_messages("u1") == [] and chat.get_keys() == []
    tool_call = ChatMessage(
        role=MessageRole.ASSISTANT,
        content=None,
        additional_kwargs={
            "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]
        },
    )
    tool = ChatMessage(
        role=MessageRole.TOOL, content="42", additional_kwargs={"tool_call_id": "c1"}
    )
    for m in [
        *msgs("hi", "hello"),
        tool_call,
        tool,
        ChatMessage(role="developer", content="be brief"),
    ]:
        chat.add_message("u1", m)
    got = chat.get_messages("u1")
    assert got[2] == tool_call and got[3] == tool and got[4].role == MessageRole.DEVELOPER
    assert contents(got[:2]) == ["hi", "hello"]
    with store.session(tenant="acme") as s:
        (first,) = s.conversations.list("llama_index:u1")
        roles = [m.role for m in s.messages.page(first.id)]
    assert roles == ["user", "assistant", "assistant", "tool", "system"]

    removed = chat.delete_message("u1", 1)
    assert removed is not None and removed.content == "hello"
    assert contents(chat.get_messages("u1")) == ["hi", None, "42", "be brief"]
    assert chat.delete_last_message("u1") == got[4]
    assert chat.delete_message("u1", 10) is None
    chat.set_messages("u1", msgs("new start"))
    assert contents(chat.get_messages("u1")) == ["new start"]
    chat.add_message("u2", msgs("other")[0])
    assert chat.get_keys() == ["u1", "u2"]
    assert contents(chat.delete_messages("u2")) == ["other"]
    assert chat.delete_messages("u2") is None and chat.get_keys() == ["u1"]
    with store.session(tenant="acme") as s:
        convs = s.conversations.list("llama_index:u1", statuses=("active", "deleted"), limit=10)
        # nothing rewritten in place: each rewrite soft-deleted the old history
        assert [c.status for c in convs].count("deleted") == 3
        assert len(s.messages.page(first.id)) == 5
    assert PgRecallChatStore(store, tenant="other").get_keys() == []


async def test_chat_store_async(store: pgrecall.Store, astore: pgrecall.AsyncStore) -> None:
    for chat in (PgRecallChatStore(astore, tenant="acme"), PgRecallChatStore(store, tenant="b")):
        await chat.async_add_message("k", msgs("a")[0])
        await chat.aset_messages("k", msgs("x", "y", "z"))
        assert contents(await chat.aget_messages("k")) == ["x", "y", "z"]
        assert (await chat.adelete_message("k", 0) or ChatMessage()).content == "x"
        assert (await chat.adelete_last_message("k") or ChatMessage()).content == "z"
        assert await chat.aget_keys() == ["k"]
        assert contents(await chat.adelete_messages("k")) == ["y"]
        assert await chat.aget_keys() == []


def test_adapters_under_row_level_security(app_store: pgrecall.Store) -> None:
    """As a non-superuser (RLS on): each tenant sees only its own nodes, chats and keys."""
    for tenant in ("a", "b"):
        vs = PgRecallVectorStore(app_store, tenant=tenant, model="m3")
        node = TextNode(id_="same-id", text=f"text of {tenant}", embedding=[1.0, 0.0, 0.0])
        node.relationships = {"1": Document(id_="doc").as_related_node_info()}  # type: ignore[dict-item]
        vs.add([node])
        PgRecallKVStore(app_store, tenant=tenant).put("k", {"tenant": tenant})
        PgRecallChatStore(app_store, tenant=tenant).add_message("u", msgs(tenant)[0])
    a = PgRecallVectorStore(app_store, tenant="a", model="m3")
    found = a.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=10))
    assert [n.get_content() for n in found.nodes or []] == ["text of a"]
    a.delete("doc")
    b = PgRecallVectorStore(app_store, tenant="b", model="m3")
    left = b.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=10))
    assert [n.get_content() for n in left.nodes or []] == ["text of b"]
    assert PgRecallKVStore(app_store, tenant="a").get_all() == {"k": {"tenant": "a"}}
    assert contents(PgRecallChatStore(app_store, tenant="b").get_messages("u")) == ["b"]
