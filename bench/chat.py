"""Chat workload: append + last-20 on one conversation; 8 concurrent writers.

- last-20: ``s.messages.last(cid, 20)`` vs the same SQL through raw psycopg (tuples),
  both inside a tenant transaction on one connection; interleaved rounds.
- append: one writer, then 8 writer threads, each append its own transaction as an
  app request would do it — through a session, and through the one-round-trip
  ``store.append_message`` — messages per second and latency p50/p95.
"""

from __future__ import annotations

import threading
import time

import psycopg

import pgrecall
from pgrecall.models.core import Message
from pgrecall.query.resources import project_queries

from ._harness import Result, interleaved, median, percentile


def _last20(url: str, quick: bool) -> Result:
    q = project_queries().last_messages
    with pgrecall.connect(url, pool_min_size=1, pool_max_size=1) as store:
        with store.session(tenant="bench") as s:
            cid = s.conversations.create(user_id="u1").id
            for i in range(200):
                s.messages.append(cid, role="user" if i % 2 else "assistant", content="x" * 400)
        with store.session(tenant="bench") as s:
            conn: psycopg.Connection[tuple[object, ...]] = s.db.conn
            params = {"tenant_id": "bench", "conversation_id": cid, "n": 20}

            def raw() -> object:
                with conn.cursor() as cur:
                    cur.execute(q.sql, params)
                    return cur.fetchall()

            def named() -> list[Message]:
                return s.messages.last(cid, n=20)

            samples = interleaved(
                {"raw psycopg": raw, "pgrecall": named},
                n=100 if quick else 500,
                rounds=5 if quick else 11,
            )
    raw_us = median(samples["raw psycopg"]) * 1e6
    named_us = median(samples["pgrecall"]) * 1e6
    return Result(
        name="last 20 messages → list[Message]",
        unit="µs/call",
        values={"raw psycopg": raw_us, "pgrecall": named_us},
        ratio=named_us / raw_us,
        baseline="raw psycopg",
        target="≤ 1.2×",
    )


def _appends(url: str, writers: int, per_writer: int, *, fast: bool) -> Result:
    with pgrecall.connect(url, pool_min_size=writers, pool_max_size=writers) as store:
        with store.session(tenant="bench") as s:
            cid = s.conversations.create(user_id="u1").id
        latencies: list[list[float]] = [[] for _ in range(writers)]

        def work(w: int) -> None:
            for i in range(per_writer):
                t0 = time.perf_counter()
                if fast:
                    store.append_message(
                        "bench", cid, role="user", content="hello " * 20, request_id=f"{w}-{i}"
                    )
                else:
                    with store.session(tenant="bench") as s:
                        s.messages.append(
                            cid, role="user", content="hello " * 20, request_id=f"{w}-{i}"
                        )
                latencies[w].append(time.perf_counter() - t0)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        with store.session(tenant="bench") as s:
            assert s.conversations.get(cid).message_count == writers * per_writer
    flat = [x for lat in latencies for x in lat]
    rate = writers * per_writer / elapsed
    how = "store.append_message" if fast else "session + s.messages.append"
    return Result(
        name=f"append ({how}), {writers} writer{'s' if writers > 1 else ''}, one conversation",
        unit="",
        values={"msgs/s": rate, "p50 ms": median(flat) * 1e3, "p95 ms": percentile(flat, 95) * 1e3},
        target="≥ 2,000 msgs/s" if writers == 8 else None,
    )


def run(url: str, *, quick: bool = False) -> list[Result]:
    n = 100 if quick else 1000
    return [
        _last20(url, quick),
        _appends(url, 1, n, fast=False),
        _appends(url, 1, n, fast=True),
        _appends(url, 8, n // 2, fast=False),
        _appends(url, 8, n // 2, fast=True),
    ]
