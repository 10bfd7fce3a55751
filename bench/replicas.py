"""Read replicas: vector-search throughput with the primary alone vs primary + 1 standby,
under a mixed load (searching readers and appending writers), and read-your-writes
violations over many write-then-read trials.

Starts its own embedded primary and a standby made with ``pg_basebackup -R`` (both on
this machine: on 2 cores the standby competes with the primary for the same CPUs, so
the ratio shows the routing cost and the offload, not a second machine's capacity).
``python -m bench --only replicas --name replicas``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

import pgrecall
from pgrecall import migrate as migrations
from pgrecall.dev import embedded
from pgrecall.settings import yoyo_url
from pgrecall.testing import create_database, with_database
from pgrecall.testing.standby import start_standby

from . import data
from ._harness import Result

MODEL = "bench-384"
TENANT = "acme"


def _load(url: str, rows: int) -> None:
    corpus = data.corpus(rows)
    with pgrecall.connect(url, pool_min_size=0) as store, store.session(TENANT) as s:
        s.embeddings.declare_model(MODEL, dimensions=384)
        s.embeddings.add_many(corpus.texts, corpus.vectors, model=MODEL)
    with pgrecall.connect(url, pool_min_size=0) as store, store.connection() as db:
        db.conn.execute("ANALYZE pgrecall.embeddings")  # as the README says after a large load


def _mixed(store: pgrecall.Store, q: np.ndarray, *, readers: int, writers: int,
           seconds: float, writer_tenant: str) -> tuple[float, float]:
    """Searches/s over ``seconds`` with ``readers`` searching and ``writers`` appending
    (in ``writer_tenant``: the readers' own tenant makes every read wait for replay)."""
    stop = threading.Event()
    searches = [0] * readers
    appends = [0] * writers
    with store.session(writer_tenant) as s:
        conv = s.conversations.create(user_id="bench").id

    def reader(i: int) -> None:
        n = 0
        while not stop.is_set():
            with store.session(TENANT, read_only=True) as s:
                s.search.vector(q[(i + n) % len(q)], 10, model=MODEL)
            n += 1
        searches[i] = n

    def writer(i: int) -> None:
        n = 0
        while not stop.is_set():
            store.append_message(writer_tenant, conv, role="user", content=f"w{i} {n}")
            n += 1
        appends[i] = n

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    threads += [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    time.sleep(seconds)  # the measurement window (a benchmark, not a test)
    stop.set()
    for t in threads:
        t.join()
    return sum(searches) / seconds, sum(appends) / seconds


def _ryw(store: pgrecall.Store, trials: int) -> int:
    violations = 0
    with store.session(TENANT) as s:
        conv = s.conversations.create(user_id="ryw").id
    for i in range(trials):
        store.append_message(TENANT, conv, role="user", content=f"r{i}")
        with store.session(TENANT, read_only=True) as s:
            last = s.messages.last(conv, n=1)
            violations += not last or last[0].content != f"r{i}"
    return violations


def run(url: str, *, quick: bool = False, rows: int | None = None) -> list[Result]:
    """``url`` is unused: a standby needs a primary whose data directory we own."""
    rows = rows or (2_000 if quick else 20_000)
    seconds, rounds, trials = (2.0, 1, 100) if quick else (10.0, 3, 1_000)
    home = Path(tempfile.mkdtemp(prefix="pgrecall-bench-replicas-"))
    try:
        primary = embedded.start(home, 18)
        db = create_database(primary.url, prefix="pgrecall_bench")
        migrations.migrate(yoyo_url(db))
        _load(db, rows)
        node = start_standby(home / "pg18", 18, home / "standby")
        replica = with_database(node.url, urlsplit(db).path.lstrip("/"))
        q = data.queries(200).vectors
        results: list[Result] = []
        with pgrecall.connect(db, pool_max_size=8) as one, \
                pgrecall.connect(db, replicas=[replica], pool_max_size=8) as two:
            _mixed(two, q, readers=1, writers=1, seconds=1.0, writer_tenant="w")  # warm up
            for label, writer_tenant in (("other tenants write", "writers"),
                                         ("the same tenant writes", TENANT)):
                used0, fell0 = two.replicas.used, two.replicas.fallbacks
                alone: list[float] = []
                routed: list[float] = []
                for r in range(rounds):
                    for name in ("alone", "routed") if r % 2 == 0 else ("routed", "alone"):
                        store = one if name == "alone" else two
                        qps, _ = _mixed(store, q, readers=4, writers=2, seconds=seconds,
                                        writer_tenant=writer_tenant)
                        (alone if name == "alone" else routed).append(qps)
                a, b = statistics.median(alone), statistics.median(routed)
                results.append(Result(
                    name=f"vector search, 4 readers + 2 writers ({label}), {rows:,} chunks",
                    unit="searches/s",
                    values={"primary only": round(a, 1), "primary + 1 replica": round(b, 1)},
                    ratio=round(b / a, 3),
                    baseline="primary only",
                    notes=f"medians of {rounds} rounds of {seconds:.0f} s; read-only sessions "
                    f"on the replica: {two.replicas.used - used0}, on the primary: "
                    f"{two.replicas.fallbacks - fell0}",
                ))
            violations = _ryw(two, trials)
        node.stop("immediate")
    finally:
        embedded.stop(home, 18, mode="immediate")
        shutil.rmtree(home, ignore_errors=True)
    return [
        *results,
        Result(
            name=f"read-your-writes: append then read-only read, {trials} trials",
            unit="violations",
            values={"violations": float(violations)},
            target="0",
            met=violations == 0,
        ),
    ]
