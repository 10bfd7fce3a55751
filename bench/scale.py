"""A million vectors on one machine: ``python -m bench --scale [--rows N]``.

Not in the default ``make bench``: the full run (1,000,000 × 384) takes a long time on
a small machine. ``--rows`` sets the size (default 1,000,000; ``--quick`` 5,000).

- **data**: the generator of :mod:`bench.data` (clustered Gaussian in a 32-d latent
  space mapped to 384-d unit vectors, Zipf text of 40-70 words, seeded), drawn in
  blocks of 50,000 so a million rows never hold the whole corpus' word lists at once.
  Row ``i`` belongs to tenant ``small`` when ``i % 100 == 0`` (1 %), else ``acme``.
- **load**: ``pgrecall.ops.bulk_load`` per tenant (the documented large-load path):
  small first, then acme, whose load drops the 384-d HNSW index concurrently, loads by
  binary COPY in batches of 10,000 on 2 connections and builds the index again with
  ``CREATE INDEX CONCURRENTLY`` (m 16, ef_construction 64, 2 parallel workers,
  ``maintenance_work_mem`` sized so the graph fits: 512 MB or ~2.5 kB a row). Load
  time ends at the last batch; build time is the rest of ``bulk_load`` (the build and
  its ANALYZE).
- **size**: ``pg_relation_size`` of the HNSW index, ``pg_total_relation_size`` of the
  table.
- **memory**: the server's peak is the largest sum of the PSS (proportional set size:
  shared buffers counted once) of the postmaster and its children, sampled every
  0.5 s from ``/proc`` while loading, building and searching (the server must run on
  this machine; the embedded one does); the client's is ``ru_maxrss``.
- **search**: top-10 ``s.search.vector`` in a session, one client, at ``ef_search``
  40, 100, 200: QPS over every query, recall@10 against exact (numpy brute force over
  the rows the tenant sees) on the first 100 queries; "acme" sees 99 % of the rows,
  "small" (the 1 % tenant: the tenant filter) 1 %.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
import psycopg
from pgvector import Vector

import pgrecall
from pgrecall.ops import bulk_load

from . import data
from ._harness import Result, percentile
from .peers import raw

__all__ = ["run"]

MODEL, DIMS, K = "bench-384", 384, 10
INDEX = "embeddings_hnsw_384_idx"
EF_SEARCH = (40, 100, 200)
BLOCK = 50_000
RECALL_QUERIES = 100


def run(url: str, *, quick: bool = False, rows: int | None = None) -> list[Result]:
    n = rows or (5_000 if quick else 1_000_000)
    nq = 50 if quick else 500
    t0 = time.perf_counter()
    texts, vectors = _corpus(n)
    tenants = np.where(np.arange(n) % 100 == 0, data.SMALL, data.BIG)
    qs = data.queries(nq)
    gen_s = time.perf_counter() - t0
    print(f"  scale: {n:,} rows generated in {gen_s:.0f} s", file=sys.stderr, flush=True)
    server = _ServerMemory(url)
    store = pgrecall.connect(url, pool_min_size=2, pool_max_size=2)
    try:
        with server:
            load = _load(store, url, texts, vectors, tenants)
            sizes = _sizes(url)
            searches = [_search(store, vectors, tenants, qs, tenant, ef)
                        for tenant in (data.BIG, data.SMALL) for ef in EF_SEARCH]
    finally:
        store.close()
    client_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [_load_result(n, load, sizes, server, client_mb, gen_s), *searches]


def _corpus(n: int, seed: int = 42) -> tuple[list[str], npt.NDArray[np.float32]]:
    """``n`` chunks from :mod:`bench.data`'s generator (same topics, vocabulary and map
    as :func:`bench.data.queries`), drawn block by block with seeded generators."""
    model = data._Model(seed, 200, DIMS)
    texts: list[str] = []
    vectors = np.empty((n, DIMS), dtype=np.float32)
    for b, start in enumerate(range(0, n, BLOCK)):
        stop = min(n, start + BLOCK)
        rng = np.random.default_rng([seed, b])
        topics = rng.integers(0, 200, stop - start)
        vectors[start:stop] = model.vectors(rng, topics)
        words = model.texts(rng, topics, 40, 70, 4)
        texts += [f"{t} (chunk {i})" for i, t in enumerate(words, start)]
    return texts, vectors


class _ServerMemory:
    """Samples the server's memory (sum of PSS over the postmaster and its children,
    and the largest single RSS) every 0.5 s while entered; keeps the peaks (MB)."""

    def __init__(self, url: str) -> None:
        with psycopg.connect(url) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        pid_file = Path(str(row[0] if row else "")) / "postmaster.pid"
        self.postmaster = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        self.pss_mb = 0.0
        self.rss_mb = 0.0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _ServerMemory:
        if self.postmaster is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            pss = rss = 0.0
            pids = [self.postmaster, *_children(self.postmaster)] if self.postmaster else []
            for pid in pids:
                p, r = _memory_kb(pid)
                pss, rss = pss + p, max(rss, r)
            self.pss_mb = max(self.pss_mb, pss / 1024)
            self.rss_mb = max(self.rss_mb, rss / 1024)
            self.processes = max(self.processes, len(pids))


def _children(parent: int) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            yield int(entry.name)


def _memory_kb(pid: int) -> tuple[float, float]:
    """(PSS, RSS) of ``pid`` in kB; zeros when it is gone or unreadable."""
    pss = rss = 0.0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = float(line.split()[1])
            elif line.startswith("Rss:"):
                rss = float(line.split()[1])
    except OSError:
        pass
    return pss, rss


def _load(store: pgrecall.Store, url: str, texts: list[str],
          vectors: npt.NDArray[np.float32], tenants: npt.NDArray[Any]) -> dict[str, float]:
    """bulk_load per tenant; seconds loading and building (the big tenant's load)."""
    n = len(texts)
    memory = f"{max(512, n * 25 // 10_000)}MB"  # the graph fits: ~2.5 kB a row
    out: dict[str, float] = {"maintenance_work_mem_mb": float(memory[:-2])}
    ids: dict[UUID, int] = {}
    start = time.perf_counter()
    for tenant in (data.SMALL, data.BIG):
        with store.session(tenant=tenant) as s:
            s.embeddings.declare_model(MODEL, dimensions=DIMS)
        mine = np.flatnonzero(tenants == tenant)
        last = [time.perf_counter()]

        def progress(done: int, last: list[float] = last, total: int = len(mine)) -> None:
            last[0] = time.perf_counter()
            if done == total or done % 100_000 < 10_000:
                print(f"  scale: {done:,} of {total:,} rows loaded",
                      file=sys.stderr, flush=True)

        t0 = time.perf_counter()
        got = bulk_load(store, tenant, [texts[i] for i in mine], vectors[mine], model=MODEL,
                        batch=10_000, rebuild_index=True, maintenance_work_mem=memory,
                        parallel_workers=2, workers=2, progress=progress)
        t1 = time.perf_counter()
        ids.update(zip(got, mine.tolist(), strict=True))
        out[f"{tenant} load s"] = last[0] - t0
        out[f"{tenant} build s"] = t1 - last[0]
        print(f"  scale: {tenant}: loaded in {last[0] - t0:.0f} s, index built in "
              f"{t1 - last[0]:.0f} s", file=sys.stderr, flush=True)
    out["total s"] = time.perf_counter() - start
    _ROWS.clear()
    _ROWS.update(ids)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE pgrecall.embeddings")
    return out


_ROWS: dict[UUID, int] = {}  # embedding id -> corpus row, set by _load


def _sizes(url: str) -> dict[str, float]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT pg_relation_size(%s::regclass),"
            " pg_total_relation_size('pgrecall.embeddings'::regclass),"
            " pg_relation_size('pgrecall.embeddings'::regclass)",
            (f"pgrecall.{INDEX}",),
        ).fetchone()
    assert row is not None
    mb = 1024 * 1024
    return {"index MB": row[0] / mb, "table total MB": row[1] / mb, "heap MB": row[2] / mb}


def _search(store: pgrecall.Store, vectors: npt.NDArray[np.float32],
            tenants: npt.NDArray[Any], qs: data.Queries, tenant: str, ef: int) -> Result:
    nq = len(qs.texts)
    for i in range(min(nq, 20)):  # warm up
        with store.session(tenant=tenant) as s:
            s.search.vector(qs.vectors[i], K, model=MODEL, ef_search=ef)
    found: list[list[int]] = []
    seconds: list[float] = []
    start = time.perf_counter()
    for i in range(nq):
        t0 = time.perf_counter()
        with store.session(tenant=tenant) as s:
            hits = s.search.vector(qs.vectors[i], K, model=MODEL, ef_search=ef)
        seconds.append(time.perf_counter() - t0)
        found.append([_ROWS[h.id] for h in hits])
    qps = nq / (time.perf_counter() - start)
    m = min(nq, RECALL_QUERIES)
    rows = np.flatnonzero(tenants == tenant)
    exact = _exact(vectors, rows, qs.vectors[:m])
    recall = float(np.mean([len(set(found[i]) & exact[i]) / K for i in range(m)]))
    what = "acme, 99 % of rows" if tenant == data.BIG else "small, tenant-filtered 1 %"
    pool = raw.open_pool(store.url, 1)
    try:
        plan = raw.plan_of_vector_search(pool, tenant, Vector(qs.vectors[0]), K, model=MODEL,
                                         dims=DIMS, ef_search=ef)
    finally:
        pool.close()
    return Result(
        name=f"scale: top-10 vector search, {what}, ef_search {ef}",
        unit="",
        values={"QPS": qps, "recall@10": recall},
        extra={"p50 ms": percentile(seconds, 50) * 1e3, "p95 ms": percentile(seconds, 95) * 1e3,
               "queries": float(nq), "recall queries": float(m)},
        notes=(f"{nq} queries, one client, a session each; p50 "
               f"{percentile(seconds, 50) * 1e3:.2f} ms, p95 {percentile(seconds, 95) * 1e3:.2f}"
               f" ms; recall@10 on the first {m} against numpy brute force over the "
               f"{len(rows):,} rows of the tenant. Plan: {', '.join(plan)}."),
    )


def _exact(vectors: npt.NDArray[np.float32], rows: npt.NDArray[np.int64],
           q: npt.NDArray[np.float32]) -> list[set[int]]:
    """Each query's ``K`` nearest rows (cosine of unit vectors), in blocks of rows."""
    best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), 0), dtype=np.int64)
    for start in range(0, len(rows), 200_000):
        part = rows[start:start + 200_000]
        sims = q @ vectors[part].T
        s = np.concatenate([best_s, sims], axis=1)
        i = np.concatenate([best_i, np.broadcast_to(part, sims.shape)], axis=1)
        top = np.argpartition(-s, K - 1, axis=1)[:, :K]
        best_s, best_i = np.take_along_axis(s, top, 1), np.take_along_axis(i, top, 1)
    return [set(line.tolist()) for line in best_i]


def _load_result(n: int, load: dict[str, float], sizes: dict[str, float],
                 server: _ServerMemory, client_mb: float, gen_s: float) -> Result:
    big = f"{data.BIG} load s", f"{data.BIG} build s"
    return Result(
        name=f"scale: {n:,} × {DIMS} through pgrecall.ops.bulk_load",
        unit="",
        values={"rows/s until searchable": n / load["total s"],
                "load s": load[big[0]] + load[f"{data.SMALL} load s"],
                "HNSW build s": load[big[1]], "index MB": sizes["index MB"],
                "server peak MB": server.pss_mb, "client peak MB": client_mb},
        extra={**load, **sizes, "server peak PSS MB": server.pss_mb,
               "server largest process RSS MB": server.rss_mb,
               "server processes (max)": float(server.processes),
               "client ru_maxrss MB": client_mb, "data generation s": gen_s,
               "cpu count": float(os.cpu_count() or 0),
               "load average": os.getloadavg()[0]},
        notes=(
            f"{n:,} chunks (384-d, ~430 characters, 1 % in tenant small), loaded by "
            "pgrecall.ops.bulk_load per tenant (small, then acme with the 384-d HNSW "
            "index dropped and built again: m 16, ef_construction 64, 2 parallel "
            f"workers, maintenance_work_mem {load['maintenance_work_mem_mb']:.0f} MB). "
            "Server peak: the largest sum of PSS of the PostgreSQL processes (0.5 s "
            "samples); client peak: ru_maxrss of the benchmark process (the corpus, "
            "its vectors and the id map included)."
        ),
    )
