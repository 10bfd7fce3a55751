"""The langchain-postgres peer, configured as its README and how-to guides show it.

- Chat: ``PostgresChatMessageHistory(table, session_id, sync_connection=conn)`` over a
  psycopg 3 connection per worker (the docs: reuse one connection, the history object
  is cheap). ``add_messages`` inserts and commits; ``.messages`` reads the whole
  session ordered by id — the API has no "last n", so the last 20 is ``[-20:]`` of it.
  Its table is ``peer_langchain.chat_history``.
- Chunks: ``PGEngine.from_connection_string("postgresql+psycopg://...")``,
  ``init_vectorstore_table`` with a ``tenant`` metadata column (the docs' way to
  filter) and a tsvector column for hybrid search, ``PGVectorStore.create_sync``,
  ``add_documents``; after the load ``apply_vector_index(HNSWIndex())`` (m 16,
  ef_construction 64, cosine — as pgrecall's) and ``apply_hybrid_search_index()``
  (GIN). Searches set ``HNSWQueryOptions(ef_search=100)``, pgrecall's default.
  Hybrid search is ``HybridSearchConfig(fusion_function=reciprocal_rank_fusion)``,
  50 candidates per list (pgrecall's default for k = 10), rrf_k 60.
- Embeddings: :class:`Precomputed` returns the benchmark's vectors for the texts it
  is given, so no embedding model runs and its cost is out of the measurement.

Two findings from writing it: a store created with a hybrid config returns
``primary_top_k`` rows (not k) from a plain vector search, so vector searches use a
second store over the same table without it; and ``similarity_search`` writes the
first query's text into the shared config's ``fts_query``, so later hybrid queries
would search the first query's words — each hybrid call passes its own config.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_postgres import Column, PGEngine, PGVectorStore, PostgresChatMessageHistory
from langchain_postgres.v2.hybrid_search_config import HybridSearchConfig, reciprocal_rank_fusion
from langchain_postgres.v2.indexes import HNSWIndex, HNSWQueryOptions
from psycopg import sql

from . import sqlalchemy_url

__all__ = ["LcChat", "LcVectors", "Precomputed"]

SCHEMA = "peer_langchain"
CHAT_TABLE = "chat_history"
CHUNK_TABLE = "chunks"
CANDIDATES = 50


class Precomputed(Embeddings):
    """An embedding "model" that returns the vectors it was given for each text."""

    def __init__(self) -> None:
        self.vectors: dict[str, list[float]] = {}

    def add(self, texts: Sequence[str], vectors: Sequence[list[float]]) -> None:
        self.vectors.update(zip(texts, vectors, strict=True))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text]


def _schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")


class LcChat:
    """Chat histories over one psycopg connection per worker."""

    def __init__(self, url: str, *, workers: int = 1) -> None:
        _schema(url)
        options = f"-c search_path={SCHEMA}"
        self.conns = [psycopg.connect(url, options=options) for _ in range(workers)]
        PostgresChatMessageHistory.create_tables(self.conns[0], CHAT_TABLE)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()

    def history(self, session_id: str, worker: int = 0) -> PostgresChatMessageHistory:
        return PostgresChatMessageHistory(
            CHAT_TABLE, session_id, sync_connection=self.conns[worker]
        )

    def add(self, session_id: str, role: str, content: str, worker: int = 0) -> None:
        self.history(session_id, worker).add_messages([_message(role, content)])

    def seed(self, session_id: str, messages: Sequence[dict[str, str]]) -> None:
        """Seed a history in one call (setup, not measured)."""
        self.history(session_id).add_messages([_message(m["role"], m["content"]) for m in messages])

    def last(self, session_id: str, n: int = 20, worker: int = 0) -> list[BaseMessage]:
        return self.history(session_id, worker).messages[-n:]


def _message(role: str, content: str) -> BaseMessage:
    return HumanMessage(content=content) if role == "user" else AIMessage(content=content)


def _hybrid(fts_query: str = "") -> HybridSearchConfig:
    return HybridSearchConfig(
        tsv_column="content_tsv",
        tsv_lang="pg_catalog.english",
        fts_query=fts_query,
        fusion_function=reciprocal_rank_fusion,
        fusion_function_parameters={"rrf_k": 60},
        primary_top_k=CANDIDATES,
        secondary_top_k=CANDIDATES,
    )


class LcVectors:
    """A ``PGVectorStore`` table of chunks with a ``tenant`` column."""

    def __init__(self, url: str, dims: int) -> None:
        _schema(url)
        self.embeddings = Precomputed()
        self.engine = PGEngine.from_connection_string(url=sqlalchemy_url(url))
        self.engine.init_vectorstore_table(
            table_name=CHUNK_TABLE,
            vector_size=dims,
            schema_name=SCHEMA,
            metadata_columns=[Column("tenant", "TEXT")],
            hybrid_search_config=_hybrid(),
            overwrite_existing=True,
        )
        common: dict[str, Any] = dict(
            engine=self.engine,
            embedding_service=self.embeddings,
            table_name=CHUNK_TABLE,
            schema_name=SCHEMA,
            metadata_columns=["tenant"],
            index_query_options=HNSWQueryOptions(ef_search=100),
        )
        self.store = PGVectorStore.create_sync(**common, hybrid_search_config=_hybrid())
        self.dense = PGVectorStore.create_sync(**common)

    def close(self) -> None:
        self.engine._run_as_sync(self.engine.close())

    def add(
        self, texts: Sequence[str], vectors: Sequence[list[float]], tenants: Sequence[str],
        ids: Sequence[str],
    ) -> list[str]:
        """``add_documents`` of the chunks (their vectors precomputed)."""
        self.embeddings.add(texts, vectors)
        docs = [
            Document(page_content=t, metadata={"tenant": tenant})
            for t, tenant in zip(texts, tenants, strict=True)
        ]
        return self.store.add_documents(docs, ids=list(ids))

    def build_indexes(self) -> None:
        """What the docs do once the data is in: the HNSW and the GIN index."""
        self.store.apply_vector_index(HNSWIndex())
        self.store.apply_hybrid_search_index()

    def search(self, vector: list[float], k: int, tenant: str | None = None) -> list[Document]:
        flt = None if tenant is None else {"tenant": tenant}
        return self.dense.similarity_search_by_vector(vector, k=k, filter=flt)

    def hybrid(self, text: str, vector: list[float], k: int) -> list[Document]:
        self.embeddings.vectors[text] = vector
        return self.store.similarity_search(text, k=k, hybrid_search_config=_hybrid(text))

    def plan(self, url: str, vector: list[float], k: int, tenant: str | None) -> Any:
        """``EXPLAIN (FORMAT JSON)`` of the dense query ``search`` sends (same text)."""
        where = sql.SQL("") if tenant is None else sql.SQL('WHERE "tenant" = {}').format(tenant)
        stmt = sql.SQL(
            "EXPLAIN (FORMAT JSON) SELECT langchain_id, content, embedding, tenant, "
            "langchain_metadata, embedding <=> {q}::vector AS distance FROM {t} {where} "
            "ORDER BY embedding <=> {q}::vector LIMIT {k}"
        ).format(q=str(vector), t=sql.Identifier(SCHEMA, CHUNK_TABLE), where=where, k=k)
        with psycopg.connect(url) as conn, conn.transaction():
            conn.execute("SET LOCAL hnsw.ef_search = 100")
            row = conn.execute(stmt).fetchone()
        return None if row is None else row[0]

    def get(self, id: str) -> list[Document]:
        return self.dense.get_by_ids([id])
