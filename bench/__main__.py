"""``python -m bench [--quick] [--only NAME ...] [--peers PEER ...]``: run the benchmarks.

One process, one database (a fresh embedded PostgreSQL 18 + pgvector, or
DATABASE_URL), every side of a comparison measured in the same run, alternating.
A full run writes ``bench/results/latest.{md,json,png}``; ``--quick`` (tiny sizes)
only prints the table.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Callable

from . import (
    chat,
    chat_peers,
    knowledge,
    langchain_peers,
    ops,
    query_overhead,
    realtext,
    replicas,
    scale,
    vectors,
)
from ._db import bench_database
from ._harness import RESULTS, Result, render, write
from .peers import ALL, PGRECALL, available

Suite = Callable[[str, bool, tuple[str, ...], int | None], list[Result]]

SUITES: dict[str, Suite] = {
    "query": lambda url, quick, peers, rows: query_overhead.run(url, quick=quick),
    "chat": lambda url, quick, peers, rows: chat.run(url, quick=quick),
    "chat-peers": lambda url, quick, peers, rows: chat_peers.run(url, quick=quick, peers=peers),
    "vectors": lambda url, quick, peers, rows: vectors.run(
        url, quick=quick, peers=peers, rows=rows
    ),
    # pgrecall on its own (issues 4 and 5); not in the default run, which must stay
    # under 20 minutes: `python -m bench --only knowledge --only ops --name knowledge-ops`
    "knowledge": lambda url, quick, peers, rows: knowledge.run(url, quick=quick, rows=rows),
    "ops": lambda url, quick, peers, rows: ops.run(url, quick=quick),
    # the LangChain adapters vs langchain-postgres through the LangChain API (issue 12):
    # `python -m bench --only langchain --rows 20000 --name langchain`
    # read replicas (issue 11): its own primary + standby; `--only replicas --name replicas`
    "replicas": lambda url, quick, peers, rows: replicas.run(url, quick=quick, rows=rows),
    "langchain": lambda url, quick, peers, rows: langchain_peers.run(
        url, quick=quick, peers=peers, rows=rows
    ),
    # a million vectors (issue 14.6): `python -m bench --scale [--rows N]` (--only scale)
    "scale": lambda url, quick, peers, rows: scale.run(url, quick=quick, rows=rows),
    # real text, real embeddings (issue 14.7; the realtext extra):
    # `python -m bench --only realtext --name realtext`
    "realtext": lambda url, quick, peers, rows: realtext.run(url, quick=quick, rows=rows),
}
DEFAULT = ["query", "chat", "chat-peers", "vectors"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--only", action="append", choices=sorted(SUITES))
    parser.add_argument("--peers", action="append", choices=[p for p in ALL if p != PGRECALL],
                        help="peers to compare with (default: every installed one)")
    parser.add_argument("--rows", type=int, help="chunks for the vectors suite "
                        "(default 100,000; --quick 2,000)")
    parser.add_argument("--scale", action="store_true",
                        help="the scale run alone (1,000,000 × 384 unless --rows; written "
                        "as bench/results/scale unless --name)")
    parser.add_argument("--name", default="latest",
                        help="results file stem in bench/results (default latest)")
    args = parser.parse_args(argv)
    if args.scale:
        args.only = [*(args.only or []), "scale"]
        args.name = "scale" if args.name == "latest" else args.name
    wanted = args.peers or [p for p in ALL if p != PGRECALL]
    missing = [p for p in wanted if not available(p)]
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} (pip install -e '.[bench]')",
              file=sys.stderr)
    peers = (PGRECALL, *[p for p in wanted if p not in missing])
    results: list[Result] = []
    elapsed: dict[str, float] = {}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    started = time.perf_counter()
    with bench_database() as url:
        for name in args.only or DEFAULT:
            t0 = time.perf_counter()
            results.extend(map(_as_peer_result, SUITES[name](url, args.quick, peers, args.rows)))
            elapsed[name] = time.perf_counter() - t0
            print(f"[{name}: {elapsed[name]:.0f} s]", file=sys.stderr, flush=True)
    total = time.perf_counter() - started
    print(render(results))
    if args.quick:
        print(f"\n--quick: nothing written; total {total:.0f} s")
        return
    meta = {"elapsed_s": {**elapsed, "total": total}, "load_average_at_start": load,
            "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])}
    md = write(args.name, results, meta=meta)
    if importlib.util.find_spec("matplotlib") is not None:
        from .plot import plot

        png = plot(results, RESULTS / f"{args.name}.png")
        if png is not None:
            print(f"written: {png}")
    print(f"written: {md} (and .json); total {total:.0f} s")


def _as_peer_result(r: Result) -> Result:
    """A single-ratio timing result (``query``, ``chat``: pgrecall / raw psycopg time per
    call) in the peers' terms: speedup = 1 / ratio; a ``≤ N×`` target is met or not."""
    if r.ratio is not None and r.baseline and not r.speedups and r.unit.endswith("/call"):
        r.speedups = {r.baseline: 1 / r.ratio}
        target = (r.target or "").replace(" ", "")
        if target.startswith("≤") and target.endswith("×"):
            r.met = r.ratio <= float(target[1:-1])
    return r


if __name__ == "__main__":
    main()
