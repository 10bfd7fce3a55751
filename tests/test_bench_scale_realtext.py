"""Smoke checks of the scale and real-text benchmarks (issue 14.6 and 14.7).

The runs themselves are long (``python -m bench --scale``) or need the ``realtext``
extra (torch and the model), which ``make test`` does not install: this checks the
scale suite end to end at a tiny size and the real-text corpus builder's pieces.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest

# the benchmarks are a package beside tests/, not part of the installed library
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import data, realtext, scale


def test_scale_corpus_is_seeded_and_exact_is_exact() -> None:
    texts, vectors = scale._corpus(1_200)
    again, same = scale._corpus(1_200)
    assert texts == again and (vectors == same).all()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    q = data.queries(4).vectors
    rows = np.arange(0, 1_200, 3)
    top = scale._exact(vectors, rows, q)
    sims = q @ vectors[rows].T
    for i, found in enumerate(top):
        assert found == {int(rows[j]) for j in sims[i].argsort()[-scale.K:]}


@pytest.mark.slow
def test_scale_suite_tiny(db_url: str) -> None:
    results = scale.run(db_url, quick=True, rows=3_000)  # no time is asserted
    load, *searches = results
    assert load.values["index MB"] > 0 and load.values["client peak MB"] > 0
    assert load.extra["server peak PSS MB"] > 0  # the embedded server runs here
    assert len(searches) == 2 * len(scale.EF_SEARCH)
    for r in searches:
        assert r.values["QPS"] > 0 and r.values["recall@10"] >= 0.9, r


def test_realtext_packs_chunks_within_bounds() -> None:
    para = " ".join(f"Sentence number {i} says something about files." for i in range(60))
    chunks = realtext._pack(f"Short intro.\n\n{para}\n\nTail words here.")
    assert chunks and all(realtext.LO // 2 <= len(c) <= realtext.HI for c in chunks)
    assert realtext._first_sentence("Return the thing you asked for today. More text.") == (
        "Return the thing you asked for today.", "More text.")
    assert realtext._first_sentence("Too short. Rest.") is None


def test_realtext_walks_public_docstrings() -> None:
    doc = '"""' + "Module text. " * 12 + '"""'
    src = (f"{doc}\nclass A:\n    {doc}\n    def f(self):\n        {doc}\n"
           f"    def _g(self):\n        {doc}\ndef _h():\n    {doc}\n")
    names = [name for name, _ in realtext._walk(ast.parse(src), "m")]
    assert names == ["m", "m.A", "m.A.f"]
