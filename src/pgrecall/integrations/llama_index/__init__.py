"""LlamaIndex adapters (``pip install 'pgrecall[llama-index]'``): a vector store, a chat
store and a key-value store (for LlamaIndex's document and index stores) on pgrecall.

Each takes a :class:`pgrecall.Store` or :class:`pgrecall.AsyncStore` and a tenant.
"""

from __future__ import annotations

from .chat_store import PgRecallChatStore
from .filters import to_filter
from .kv_store import PgRecallKVStore
from .vector_store import PgRecallVectorStore, node_uuid

__all__ = ["PgRecallChatStore", "PgRecallKVStore", "PgRecallVectorStore", "node_uuid", "to_filter"]
