"""A smoke run of the peer benchmarks at tiny sizes: pgrecall and raw psycopg only.

The SQLAlchemy and langchain peers need the ``bench`` extra, which ``make test`` does
not install; ``make bench`` runs them. This checks that the runner, the data
generator, recall and the result files work, not how fast anything is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# the benchmarks are a package beside tests/, not part of the installed library
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import chat_peers, data, vectors
from bench._harness import Result, render, write
from bench.peers import PGRECALL, RAW

PEERS = (PGRECALL, RAW)


def test_data_is_seeded_and_exact_top_k_is_exact() -> None:
    a, b = data.corpus(300), data.corpus(300)
    assert a.texts == b.texts and (a.vectors == b.vectors).all()
    assert a.rows_of(data.SMALL).tolist() == [0, 100, 200]
    q = data.queries(5)
    assert len(set(q.texts)) == 5
    top = data.exact_top_k(a, a.rows_of(None), q.vectors, 3)
    sims = q.vectors @ a.vectors.T
    for i, found in enumerate(top):
        assert found == set(sims[i].argsort()[-3:].tolist())


@pytest.mark.slow
def test_peer_benchmarks_tiny(db_url: str, tmp_path: Path) -> None:
    results = chat_peers.run(db_url, quick=True, peers=PEERS)  # ~15 s; no time is asserted
    results += vectors.run(db_url, quick=True, peers=PEERS, rows=1000)
    names = [r.name for r in results]
    assert any(n.startswith("chat turn") for n in names)
    assert any("tenant-filtered" in n for n in names)
    for r in results:
        assert all(v > 0 for v in r.values.values()), r
        if len(r.values) > 1 and r.unit == "ms":
            assert set(r.speedups) == {RAW}, r
    count = next(r for r in results if r.name.startswith("message_count"))
    assert count.values[PGRECALL] == 80  # 8 writers × 10, counted under the row lock
    searches = [r for r in results if r.name.startswith("top-10 vector search")]
    for r in searches:
        assert r.extra[f"{PGRECALL} recall@10"] >= 0.9
        assert r.extra[f"{RAW} recall@10"] >= 0.9
    md = write("smoke", results, directory=tmp_path)
    assert "| chat turn" in md.read_text()
    payload = json.loads((tmp_path / "smoke.json").read_text())
    assert len(payload["results"]) == len(results)
    assert "Notes:" in render(results)


def test_plot(tmp_path: Path) -> None:
    from bench.plot import plot  # matplotlib is in the dev extra: this never skips

    results = [
        Result("chat", "ms", {PGRECALL: 1.0, RAW: 0.9}, speedups={RAW: 0.9}),
        Result("top-10 vector search, filtered", "ms", {PGRECALL: 1.0}, speedups={RAW: 1.1},
               extra={f"{PGRECALL} recall@10": 0.98}),
    ]
    png = plot(results, tmp_path / "x.png")
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"
