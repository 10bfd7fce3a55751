"""langchain-tests' standard suites against the LangChain adapters, no test overridden.

Each suite runs on a sync ``Store`` (async methods in an executor) and, where the suite
has an async half of its own, on an ``AsyncStore`` (native async). The vector store
suite has both halves in one class: on the AsyncStore its sync half is skipped through
the suite's own ``has_sync`` switch (sync calls need a sync store). One database per
module; each test gets a new tenant, so every store starts empty.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    AsyncCacheTestSuite,
    BaseStoreAsyncTests,
    BaseStoreSyncTests,
    RetrieversIntegrationTests,
    SyncCacheTestSuite,
    VectorStoreIntegrationTests,
)

import pgrecall
from pgrecall.integrations.langchain import (
    PgRecallByteStore,
    PgRecallCache,
    PgRecallRetriever,
    PgRecallVectorStore,
)
from pgrecall.testing import clone_database, drop_database

MODEL = "fake-6"  # langchain-tests' DeterministicFakeEmbedding(size=6)


def tenant() -> str:
    return f"lc-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def lc_url(pg_url: str, template_db: str) -> Iterator[str]:
    url = clone_database(pg_url, template_db)
    yield url
    drop_database(pg_url, urlsplit(url).path.lstrip("/"))


@pytest.fixture(scope="module")
def lc_store(lc_url: str) -> Iterator[pgrecall.Store]:
    with pgrecall.connect(lc_url, pool_min_size=0, pool_max_size=4) as store:
        yield store


@pytest.fixture
async def lc_astore(lc_url: str) -> AsyncIterator[pgrecall.AsyncStore]:
    async with await pgrecall.connect_async(lc_url, pool_min_size=0, pool_max_size=2) as store:
        yield store


class TestVectorStoreOnStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, lc_store: pgrecall.Store) -> VectorStore:
        return PgRecallVectorStore(
            lc_store, tenant=tenant(), embedding=self.get_embeddings(), model=MODEL
        )


class TestVectorStoreOnAsyncStore(VectorStoreIntegrationTests):
    @property
    def has_sync(self) -> bool:
        return False  # an AsyncStore has no sync calls (they raise ConfigurationError)

    @pytest.fixture
    def vectorstore(self, lc_astore: pgrecall.AsyncStore) -> VectorStore:
        return PgRecallVectorStore(
            lc_astore, tenant=tenant(), embedding=self.get_embeddings(), model=MODEL
        )


class TestByteStoreSync(BaseStoreSyncTests[bytes]):
    @pytest.fixture
    def kv_store(self, lc_store: pgrecall.Store) -> PgRecallByteStore:
        return PgRecallByteStore(lc_store, tenant=tenant())

    @pytest.fixture
    def three_values(self) -> tuple[bytes, bytes, bytes]:
        return b"foo", b"\x00bar\xff", b"buzz"


class TestByteStoreAsync(BaseStoreAsyncTests[bytes]):
    @pytest.fixture
    async def kv_store(self, lc_astore: pgrecall.AsyncStore) -> PgRecallByteStore:
        return PgRecallByteStore(lc_astore, tenant=tenant())

    @pytest.fixture
    def three_values(self) -> tuple[bytes, bytes, bytes]:
        return b"foo", b"\x00bar\xff", b"buzz"


class TestCacheSync(SyncCacheTestSuite):
    @pytest.fixture
    def cache(self, lc_store: pgrecall.Store) -> PgRecallCache:
        return PgRecallCache(lc_store, tenant=tenant())


class TestCacheAsync(AsyncCacheTestSuite):
    @pytest.fixture
    async def cache(self, lc_astore: pgrecall.AsyncStore) -> PgRecallCache:
        return PgRecallCache(lc_astore, tenant=tenant())


CORPUS = [
    "PostgreSQL stores vectors with the pgvector extension",
    "Hybrid search fuses keyword and vector rankings",
    "Row level security keeps tenants apart",
    "HNSW indexes make nearest neighbour search fast",
    "Reciprocal rank fusion needs no score normalisation",
    "Iterative index scans keep filtered searches complete",
]


class TestRetriever(RetrieversIntegrationTests):
    vs: PgRecallVectorStore

    @pytest.fixture(autouse=True)
    def corpus(self, lc_store: pgrecall.Store) -> None:
        self.vs = PgRecallVectorStore(
            lc_store,
            tenant=tenant(),
            embedding=VectorStoreIntegrationTests.get_embeddings(),
            model=MODEL,
        )
        self.vs.add_texts(CORPUS)

    @property
    def retriever_constructor(self) -> type[PgRecallRetriever]:
        return PgRecallRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"vectorstore": self.vs}

    @property
    def retriever_query_example(self) -> str:
        return "vector search in PostgreSQL"
