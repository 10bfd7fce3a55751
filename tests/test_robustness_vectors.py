"""Issue 10.5 / 10.12: vectors cosine distance cannot rank are refused at the edge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import pgrecall
from pgrecall import ValidationError

DEGENERATE: dict[str, Any] = {
    "norm_underflows": [1e-30, 1e-30, 1e-30],
    "norm_underflows_np": np.array([1e-25, 0.0, 1e-25], dtype=np.float32),
    "norm_overflows": [1e20, 1e20, 1e20],
    "norm_overflows_np": np.array([3e19, 3e19, 0.0]),
    "two_rows_as_one": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    "one_row_matrix": np.array([[1.0, 0.0, 0.0]]),
    "nested_list": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    "subnormal": [1e-40, 0.0, 0.0],
}

CALLS: dict[str, Callable[[pgrecall.Session, Any], Any]] = {
    "embeddings.add": lambda s, v: s.embeddings.add("x", v, model="m"),
    "embeddings.add_many": lambda s, v: s.embeddings.add_many(["x"], [v], model="m"),
    "search.vector": lambda s, v: s.search.vector(v, model="m"),
    "search.hybrid": lambda s, v: s.search.hybrid("x", v, model="m"),
    "memories.add": lambda s, v: s.memories.add("x", embedding=v, model="m"),
    "memories.recall": lambda s, v: s.memories.recall(v, model="m"),
}


@pytest.mark.parametrize("vector", list(DEGENERATE))
def test_degenerate_vectors_are_validation_errors(store: pgrecall.Store, vector: str) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("m", dimensions=3)
        s.memories.add("kept", embedding=[0.0, 0.0, 1.0], model="m")
        for name, call in CALLS.items():
            with pytest.raises(ValidationError, match="embedding") as err:
                call(s, DEGENERATE[vector])
            assert err.value.sqlstate is None, name  # refused before any SQL
        assert s.embeddings.count() == 0 and len(s.memories.list()) == 1


def test_small_and_large_but_sane_vectors_still_rank(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("m", dimensions=3)
        small = s.embeddings.add("small", [1e-10, 0.0, 0.0], model="m")
        big = s.embeddings.add("big", [0.0, 1e15, 0.0], model="m")
        hits = s.search.vector([0.0, 1.0, 0.0], k=2, model="m")
        assert [h.id for h in hits] == [big.id, small.id]
        assert hits[0].distance == pytest.approx(0.0, abs=1e-6)
        assert hits[1].distance == pytest.approx(1.0, abs=1e-6)


def test_add_many_rejects_degenerate_rows_of_a_2d_array(store: pgrecall.Store) -> None:
    rows = np.array([[1.0, 0.0, 0.0], [1e-30, 1e-30, 0.0]])
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("m", dimensions=3)
        with pytest.raises(ValidationError, match=r"embeddings\[1\]"):
            s.embeddings.add_many(["a", "b"], rows, model="m")
