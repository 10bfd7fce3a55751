"""LangChain adapters for pgrecall (``pip install 'pgrecall[langchain]'``).

- :class:`PgRecallVectorStore` -- a ``VectorStore`` over pgrecall's embeddings
  (string ids, upserts, filtered / hybrid / MMR search, native async on an AsyncStore);
- :class:`PgRecallRetriever` -- its retriever, hybrid search by default;
- :class:`PgRecallChatMessageHistory` -- a chat history over a pgrecall conversation;
- :class:`PgRecallByteStore` -- a ``BaseStore[str, bytes]`` on ``pgrecall.kv``;
- :class:`PgRecallCache` -- an LLM cache on pgrecall's UNLOGGED cache.

Each takes a :class:`pgrecall.Store` or a :class:`pgrecall.AsyncStore` and a tenant.
"""

from __future__ import annotations

from .chat_history import PgRecallChatMessageHistory
from .retriever import PgRecallRetriever
from .stores import PgRecallByteStore, PgRecallCache
from .vectorstore import PgRecallVectorStore

__all__ = [
    "PgRecallByteStore",
    "PgRecallCache",
    "PgRecallChatMessageHistory",
    "PgRecallRetriever",
    "PgRecallVectorStore",
]
