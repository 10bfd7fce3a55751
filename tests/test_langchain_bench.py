"""Smoke run of the LangChain benchmark (``bench/langchain_peers.py``) at a tiny size,
pgrecall's side only (langchain-postgres comes with ``make bench``, not ``make test``).
Not a timing test: the suite runs end to end and returns sane results."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parent.parent)

pytestmark = pytest.mark.slow


def test_langchain_bench_smoke(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(ROOT)  # bench/ is a directory at the root, not a package
    from bench import langchain_peers
    from bench.peers import PGRECALL

    results = langchain_peers.run(db_url, quick=True, peers=(PGRECALL,), rows=300)
    assert [r.name.split(",")[0] for r in results] == [
        "LangChain add_documents",
        *["LangChain top-10 vector search"] * 5,
        "LangChain chat history: add_messages + read the history",
    ]
    for r in results:
        assert set(r.values) == {PGRECALL}
        assert all(math.isfinite(v) and v > 0 for v in r.values.values())
    for r in results[1:6]:  # a few hundred rows: every search is exact
        assert r.extra[f"{PGRECALL} recall@10"] == 1.0 and r.met is True
