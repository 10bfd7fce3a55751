"""Issue 10.7 / 10.12: embedding models and bulk loads refuse before they write."""

from __future__ import annotations

from uuid import uuid4

import pytest

import pgrecall
from pgrecall import ValidationError


def test_redeclaring_with_another_dimension_writes_nothing(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("m", dimensions=3, description="first")
    with store.session(tenant="acme") as s:
        with pytest.raises(ValidationError, match="declared with 3 dimensions, not 4"):
            s.embeddings.declare_model("m", dimensions=4, description="second")
        assert s.embeddings.model("m").description == "first"  # same transaction
    with store.session(tenant="acme") as s:
        model = s.embeddings.model("m")
        assert (model.dimensions, model.description) == (3, "first")
        assert s.embeddings.declare_model("m", dimensions=3, description="third").description == (
            "third"
        )


def test_dimension_cache_follows_delete_and_redeclare_in_one_session(
    store: pgrecall.Store,
) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("m", dimensions=3)
        s.embeddings.add("a", [1.0, 0.0, 0.0], model="m")
        assert len(s.search.vector([1.0, 0.0, 0.0], model="m")) == 1
        s.memories.recall([1.0, 0.0, 0.0], model="m")
        s.db.conn.execute("DELETE FROM pgrecall.embeddings WHERE model = 'm'")
        assert s.embeddings.delete_model("m")
        s.embeddings.declare_model("m", dimensions=2)
        e = s.embeddings.add("b", [0.0, 1.0], model="m")
        assert [h.id for h in s.search.vector([0.0, 1.0], model="m")] == [e.id]
        s.memories.add("x", embedding=[1.0, 1.0], model="m")
        assert len(s.memories.recall([1.0, 1.0], model="m")) == 1
        with pytest.raises(ValidationError, match="3 dimensions"):
            s.search.vector([1.0, 0.0, 0.0], model="m")


def test_add_many_refuses_duplicate_ids(store: pgrecall.Store) -> None:
    u = uuid4()
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("m", dimensions=2)
        for upsert in (False, True):
            with pytest.raises(ValidationError, match="ids") as err:
                s.embeddings.add_many(["a", "b"], [[1, 0], [0, 1]], model="m", ids=[u, str(u)],
                                      upsert=upsert)  # fmt: skip
            assert err.value.sqlstate is None
        assert s.embeddings.count() == 0


@pytest.mark.parametrize("candidates", [0, -1, True, 10_001, 2.5])
def test_hybrid_and_recall_candidates_must_be_positive(
    store: pgrecall.Store, candidates: object
) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("m", dimensions=2)
        with pytest.raises(ValidationError, match="candidates"):
            s.search.hybrid("x", [1.0, 0.0], model="m", candidates=candidates)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="candidates"):
            s.memories.recall([1.0, 0.0], model="m", candidates=candidates)  # type: ignore[arg-type]
