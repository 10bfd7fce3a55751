"""The same LangChain code on pgrecall's ``PgRecallVectorStore`` and on langchain-postgres'
``PGVectorStore``; chat history on ``PgRecallChatMessageHistory`` and
``PostgresChatMessageHistory``.

``python -m bench --only langchain [--rows N]`` (or ``python -m bench.langchain_peers``).

Data (:mod:`bench.data`, seeded): ``rows`` chunks of 384-d unit vectors with ~430
characters of text; each document's metadata has four booleans, true for 0.1 %, 1 %,
10 % and 50 % of the rows (``i % 1000 == 0``, ``% 100``, ``% 10``, ``% 2``: unrelated to
the vectors). Embeddings are precomputed (an ``Embeddings`` that looks the vectors up),
so no model runs.

- **ingest until searchable**: ``add_documents`` in batches of 1,000 with string ids,
  the sides alternating per batch. pgrecall: into its migrated table (HNSW maintained
  during the load), then ANALYZE. langchain-postgres: a table made by
  ``init_vectorstore_table`` with the four booleans as metadata columns (its documented
  way to filter), then ``apply_vector_index(HNSWIndex())`` (m 16, ef_construction 64,
  cosine, as pgrecall's) and ANALYZE.
- **top-10 search**: ``similarity_search_by_vector(v, k=10, filter=...)``, unfiltered
  and with each boolean as the filter; ``ef_search`` 100 on both; p50 over the queries,
  the sides alternating per query; recall@10 against brute force over the rows the
  filter admits.
- **chat history**: per operation ``add_messages([one message])`` then ``.messages``
  (the whole history, the LangChain API's read), on histories seeded with 20 messages.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.vectorstores import VectorStore
from psycopg import sql

import pgrecall
from pgrecall.integrations.langchain import PgRecallChatMessageHistory, PgRecallVectorStore

from . import data
from ._harness import Result, median, timed
from .peers import LANGCHAIN, PGRECALL, available, sqlalchemy_url

__all__ = ["run"]

K = 10
BATCH = 1000
DIMS = 384
TENANT, MODEL = "lc-bench", "lc-bench-384"
SCHEMA, TABLE, CHAT_TABLE = "peer_langchain", "lc_chunks", "lc_chat"
FLAGS = {"0.1 %": ("p0001", 1000), "1 %": ("p001", 100), "10 %": ("p01", 10), "50 %": ("p05", 2)}
TARGET_RECALL = 0.95


class Precomputed(Embeddings):
    """Returns the benchmark's vectors for the texts it was given."""

    def __init__(self) -> None:
        self.vectors: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text]


def _meta(i: int) -> dict[str, Any]:
    return {key: i % every == 0 for key, every in FLAGS.values()}


def _id(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


def _row(doc: Document) -> int:
    return uuid.UUID(str(doc.id)).int - 1


class _Sides:
    """The vector stores and chat histories of each side, over one database."""

    def __init__(self, url: str, peers: Sequence[str]) -> None:
        self.url = url
        self.embeddings = Precomputed()
        self.store = pgrecall.connect(url, pool_min_size=1, pool_max_size=2)
        self.stores: dict[str, VectorStore] = {
            PGRECALL: PgRecallVectorStore(
                self.store, tenant=TENANT, embedding=self.embeddings, model=MODEL, ef_search=100
            )
        }
        self.finish: dict[str, Callable[[], object]] = {
            PGRECALL: lambda: self._analyze("pgrecall", "embeddings")
        }
        self.engine: Any = None
        self.lc_conn: Any = None
        if LANGCHAIN in peers and available(LANGCHAIN):
            self._langchain()

    def _langchain(self) -> None:
        import psycopg
        from langchain_postgres import Column, PGEngine, PGVectorStore
        from langchain_postgres.v2.indexes import HNSWIndex, HNSWQueryOptions

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        self.engine = PGEngine.from_connection_string(url=sqlalchemy_url(self.url))
        flags = [key for key, _ in FLAGS.values()]
        self.engine.init_vectorstore_table(
            table_name=TABLE,
            vector_size=DIMS,
            schema_name=SCHEMA,
            metadata_columns=[Column(key, "BOOLEAN") for key in flags],
            overwrite_existing=True,
        )
        lc = PGVectorStore.create_sync(
            engine=self.engine,
            embedding_service=self.embeddings,
            table_name=TABLE,
            schema_name=SCHEMA,
            metadata_columns=flags,
            index_query_options=HNSWQueryOptions(ef_search=100),
        )
        self.stores[LANGCHAIN] = lc

        def finish() -> None:
            lc.apply_vector_index(HNSWIndex())
            self._analyze(SCHEMA, TABLE)

        self.finish[LANGCHAIN] = finish
        self.lc_conn = psycopg.connect(self.url, options=f"-c search_path={SCHEMA}")

    def _analyze(self, schema: str, table: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))

    def close(self) -> None:
        self.store.close()
        if self.engine is not None:
            self.engine._run_as_sync(self.engine.close())
        if self.lc_conn is not None:
            self.lc_conn.close()


def _alternate(sides: Sequence[str], turn: int) -> Sequence[str]:
    return sides if turn % 2 == 0 else list(reversed(sides))


def _ingest(b: _Sides, corpus: data.Corpus, n: int) -> Result:
    names = list(b.stores)
    load = dict.fromkeys(names, 0.0)
    for turn, start in enumerate(range(0, n, BATCH)):
        part = range(start, min(n, start + BATCH))
        texts = [corpus.texts[i] for i in part]
        vectors = corpus.vectors[start : part.stop].tolist()
        b.embeddings.vectors.update(zip(texts, vectors, strict=True))
        docs = [Document(page_content=corpus.texts[i], metadata=_meta(i)) for i in part]
        ids = [_id(i) for i in part]
        for name in _alternate(names, turn):
            load[name] += timed(partial(b.stores[name].add_documents, docs, ids=ids))
        if turn % 5 == 4:
            print(f"  langchain ingest: {part.stop:,} rows", file=sys.stderr, flush=True)
    index = {name: timed(b.finish[name]) for name in names}
    total = {name: load[name] + index[name] for name in names}
    result = Result(
        name=f"LangChain add_documents, {n:,} × {DIMS}, until searchable",
        unit="rows/s",
        values={name: n / total[name] for name in names},
        extra={f"{name} s load": load[name] for name in names}
        | {f"{name} s index + ANALYZE": index[name] for name in names},
        notes=(
            f"add_documents in batches of {BATCH:,} with string ids, sides alternating; "
            "pgrecall maintains its HNSW during the load, langchain-postgres builds "
            "HNSWIndex() after it."
        ),
    )
    if LANGCHAIN in total:
        result.speedups = {LANGCHAIN: total[LANGCHAIN] / total[PGRECALL]}
    return result


def _search(b: _Sides, corpus: data.Corpus, qs: data.Queries, label: str, key: str | None
            ) -> Result:
    names = list(b.stores)
    n = len(corpus.texts)
    allowed = np.arange(n) if key is None else np.array(
        [i for i in range(n) if _meta(i)[key]], dtype=np.int64
    )
    want = min(K, len(allowed))  # a filter admitting fewer than K rows: all of them
    truth = data.exact_top_k(corpus, allowed, qs.vectors, want)
    flt = None if key is None else {key: True}
    seconds: dict[str, list[float]] = {name: [] for name in names}
    recall: dict[str, list[float]] = {name: [] for name in names}
    returned: dict[str, list[int]] = {name: [] for name in names}
    vectors = qs.vectors.tolist()
    for name in names:  # warm-up: plans, caches, the index in memory
        for v in vectors[:5]:
            b.stores[name].similarity_search_by_vector(v, k=K, filter=flt)
    for q, v in enumerate(vectors):
        for name in _alternate(names, q):
            start = time.perf_counter()
            docs = b.stores[name].similarity_search_by_vector(v, k=K, filter=flt)
            seconds[name].append(time.perf_counter() - start)
            got = {_row(d) for d in docs}
            recall[name].append(len(got & truth[q]) / want)
            returned[name].append(len(docs))
    p50 = {name: median(v) * 1e3 for name, v in seconds.items()}
    mean_recall = {name: float(np.mean(v)) for name, v in recall.items()}
    what = "unfiltered" if key is None else f"metadata-filtered ({label} of rows)"
    result = Result(
        name=f"LangChain top-{K} vector search, {what}",
        unit="ms p50",
        values=p50,
        target=f"pgrecall recall@{K} ≥ {TARGET_RECALL}",
        extra={f"{name} recall@{K}": r for name, r in mean_recall.items()}
        | {f"{name} rows returned (mean)": float(np.mean(v)) for name, v in returned.items()},
        notes=(
            f"similarity_search_by_vector(k={K}, filter={flt}) over {len(qs.texts)} queries, "
            f"{len(allowed):,} rows admitted; recall@{K} against brute force: "
            + ", ".join(f"{name} {r:.3f}" for name, r in mean_recall.items())
        ),
    )
    result.met = mean_recall[PGRECALL] >= TARGET_RECALL
    if LANGCHAIN in p50:
        result.speedups = {LANGCHAIN: p50[LANGCHAIN] / p50[PGRECALL]}
    return result


def _chat(b: _Sides, ops: int, histories: int) -> Result:
    from . import data as d

    seed = [
        HumanMessage(m["content"]) if m["role"] == "user" else AIMessage(m["content"])
        for m in d.messages(20)
    ]
    sides: dict[str, list[Any]] = {
        PGRECALL: [
            PgRecallChatMessageHistory.create(b.store, tenant=TENANT, user_id=f"u{i}")
            for i in range(histories)
        ]
    }
    if b.lc_conn is not None:
        from langchain_postgres import PostgresChatMessageHistory

        PostgresChatMessageHistory.create_tables(b.lc_conn, CHAT_TABLE)
        sides[LANGCHAIN] = [
            PostgresChatMessageHistory(CHAT_TABLE, str(uuid.uuid4()), sync_connection=b.lc_conn)
            for _ in range(histories)
        ]
    for hs in sides.values():
        for h in hs:
            h.add_messages(seed)
    names = list(sides)
    append: dict[str, list[float]] = {name: [] for name in names}
    read: dict[str, list[float]] = {name: [] for name in names}
    texts = [m.content for m in seed]
    for op in range(ops):
        message: BaseMessage = HumanMessage(str(texts[op % len(texts)]))
        for name in _alternate(names, op):
            h = sides[name][op % histories]
            append[name].append(timed(partial(h.add_messages, [message])))
            read[name].append(timed(partial(getattr, h, "messages")))
    both = {name: median([a + r for a, r in zip(append[name], read[name], strict=True)]) * 1e3
            for name in names}
    result = Result(
        name="LangChain chat history: add_messages + read the history",
        unit="ms p50",
        values=both,
        extra={f"{name} append ms p50": median(v) * 1e3 for name, v in append.items()}
        | {f"{name} read ms p50": median(v) * 1e3 for name, v in read.items()},
        notes=(
            f"{ops} operations over {histories} histories seeded with 20 messages; each "
            "appends one message and reads the whole history (.messages)."
        ),
    )
    if LANGCHAIN in both:
        result.speedups = {LANGCHAIN: both[LANGCHAIN] / both[PGRECALL]}
    return result


def run(url: str, *, quick: bool = False, peers: Sequence[str] = (PGRECALL, LANGCHAIN),
        rows: int | None = None) -> list[Result]:
    n = rows or (2_000 if quick else 20_000)
    nq = 20 if quick else 100
    corpus, qs = data.corpus(n), data.queries(nq)
    b = _Sides(url, peers)
    try:
        results = [_ingest(b, corpus, n)]
        results.append(_search(b, corpus, qs, "all", None))
        for label, (key, _) in FLAGS.items():
            results.append(_search(b, corpus, qs, label, key))
            print(f"  langchain search: {label} done", file=sys.stderr, flush=True)
        results.append(_chat(b, 50 if quick else 400, 10))
        return results
    finally:
        b.close()


if __name__ == "__main__":
    import argparse

    from ._db import bench_database
    from ._harness import render

    parser = argparse.ArgumentParser(prog="python -m bench.langchain_peers")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    args = parser.parse_args()
    with bench_database() as db:
        print(render(run(db, quick=args.quick, rows=args.rows)))
