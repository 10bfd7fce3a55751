"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, write bench/results/."""

from __future__ import annotations

import argparse

from . import chat, query_overhead
from ._db import bench_database
from ._harness import render, write

SUITES = {"query": query_overhead.run, "chat": chat.run}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--only", action="append", choices=sorted(SUITES))
    args = parser.parse_args()
    results = []
    with bench_database() as url:
        for name in args.only or list(SUITES):
            results.extend(SUITES[name](url, quick=args.quick))
    print(render(results))
    if not args.quick:
        print(f"\nwritten: {write('latest', results)}")


if __name__ == "__main__":
    main()
