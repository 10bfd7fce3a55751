"""Issue 10.4: memory recall's recency decays to 0 and never errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

import pgrecall
from pgrecall import Query

AGE = Query.from_string(
    "age_memory",
    "exec",
    "UPDATE pgrecall.memories SET created_at = now() - make_interval(days => :days),"
    " last_accessed_at = NULL WHERE tenant_id = :tenant_id AND id = :id",
)


@pytest.mark.parametrize(
    ("half_life", "days"),
    [(timedelta(microseconds=1), 1), (timedelta(seconds=1), 3650), (timedelta(days=1), 2000)],
)
def test_recall_of_old_memories_decays_to_zero(
    store: pgrecall.Store, half_life: timedelta, days: int
) -> None:
    with store.session(tenant="acme") as s:
        s.embeddings.declare_model("mini", dimensions=3)
        old = s.memories.add("old", embedding=[1, 0, 0], model="mini", importance=0.9)
        fresh = s.memories.add("fresh", embedding=[1, 0.1, 0], model="mini", importance=0.1)
        assert s.db.execute(AGE, tenant_id="acme", id=old.id, days=days) == 1
    with store.session(tenant="acme") as s:
        got = s.memories.recall([1, 0, 0], k=2, model="mini", half_life=half_life)
    by_id = {m.id: m for m in got}
    assert set(by_id) == {old.id, fresh.id}
    assert by_id[old.id].recency == 0
    assert 0 <= by_id[fresh.id].recency <= 1
