"""Events: logging, batch COPY, daily partitions, the default partition, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import pgrecall
from pgrecall import ValidationError
from pgrecall.models.ops import NewEvent

Q_WHERE = pgrecall.Query.from_string(
    "where_is",
    "scalar",
    "SELECT tableoid::regclass::text FROM pgrecall.events WHERE id = :id",
)
Q_AS_APP = pgrecall.Query.from_string("as_app", "exec", "SET LOCAL ROLE pgrecall_app")


def _day(offset: int) -> datetime:
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(
        days=offset
    )


def test_log_and_query(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        e = s.events.log(
            "llm.call",
            message="answered",
            service="api",
            details={"model": "m"},
            request_id="req-1",
            conversation_id=c.id,
            user_id="u1",
            duration_ms=120,
        )
        assert e.level == "info" and e.details == {"model": "m"} and e.duration_ms == 120
        s.events.log("log", level="error", message="boom", service="worker", request_id="req-1")
        s.events.log("log", level="debug", message="noise", service="worker")
        assert [x.id for x in s.events.of_conversation(c.id)] == [e.id]
        assert [x.type for x in s.events.of_request("req-1")] == ["llm.call", "log"]
        errors = s.events.list(levels=["error", "critical"])
        assert [x.message for x in errors] == ["boom"]
        assert len(s.events.list(service="worker")) == 2
        page1 = s.events.list(limit=2)
        page2 = s.events.list(limit=2, after=page1[-1])
        assert len(page1) == 2 and len(page2) == 1
        assert {x.id for x in page1 + page2} == {x.id for x in s.events.list()}
        assert s.db.scalar(Q_WHERE, str, id=e.id).startswith("pgrecall.events_p")
    with store.session(tenant="other") as s:
        assert s.events.list() == []  # tenant-scoped


def test_log_many_through_copy(store: pgrecall.Store) -> None:
    events = [
        NewEvent(type="page_view", details={"i": i}, occurred_at=_day(0) - timedelta(seconds=i))
        for i in range(500)
    ]
    events.append(NewEvent(type="signup", level="warning", message="x", user_id="u9"))
    with store.session(tenant="acme") as s:
        assert s.events.log_many(events) == 501
        assert s.events.log_many([]) == 0
        assert s.events.log_many(events[:3]) == 3  # the stage is reusable in a transaction
        assert len(s.events.list(type="page_view", limit=1000)) == 503
        signup = s.events.list(type="signup")[0]
        assert signup.level == "warning" and signup.user_id == "u9"


def test_log_many_validates_everything_first(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        bad = [NewEvent(type="ok"), NewEvent(type="ok", details={"k": float("nan")})]
        with pytest.raises(ValidationError, match="nan"):
            s.events.log_many(bad)
        assert s.events.list() == []
        with pytest.raises(ValidationError, match="timezone"):
            s.events.log("x", occurred_at=datetime(2020, 1, 1))
        with pytest.raises(ValidationError, match="type"):
            s.events.log("")


def test_log_many_works_for_the_application_role(store: pgrecall.Store) -> None:
    # COPY FROM is refused on a table with row level security for a role subject to it;
    # the staging table makes batch logging work for pgrecall_app, and RLS still checks.
    with store.session(tenant="acme") as s:
        s.db.execute(Q_AS_APP)
        assert s.events.log_many([NewEvent(type="a"), NewEvent(type="b")]) == 2
        assert len(s.events.list()) == 2


def test_events_outside_the_window_land_in_the_default_partition(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        old = s.events.log("old", occurred_at=_day(-400))
        future = s.events.log("future", occurred_at=_day(30))
        today = s.events.log("today")
        assert s.db.scalar(Q_WHERE, str, id=old.id) == "pgrecall.events_default"
        assert s.db.scalar(Q_WHERE, str, id=future.id) == "pgrecall.events_default"
        assert s.db.scalar(Q_WHERE, str, id=today.id) != "pgrecall.events_default"
        # creating the partition for that day moves its rows out of the default one
        made = s.events.create_partitions(from_day=_day(30).date(), days=1)
        assert made == [f"events_p{_day(30):%Y%m%d}"]
        assert s.db.scalar(Q_WHERE, str, id=future.id) == f"pgrecall.{made[0]}"
        assert s.events.create_partitions(from_day=_day(30).date(), days=1) == []
        names = {p.name for p in s.events.partitions()}
        assert {"events_default", made[0], f"events_p{_day(0):%Y%m%d}"} <= names


def test_retention_drops_whole_partitions(store: pgrecall.Store) -> None:
    from pgrecall.ops import cleanup

    with store.session(tenant="acme") as s:
        s.events.create_partitions(from_day=_day(-10).date(), days=3)  # days -10, -9, -8
        for offset in (-10, -9, -8, -1, 0):
            s.events.log("tick", occurred_at=_day(offset))
        s.events.log("ancient", occurred_at=_day(-400))  # default partition
    report = cleanup(store, events_days=5, deleted_days=None)
    assert report.partitions_dropped == {f"events_p{_day(o):%Y%m%d}": 1 for o in (-10, -9, -8)}
    assert report.events_deleted_from_default == 1
    with store.session(tenant="acme") as s:
        assert sorted(e.occurred_at for e in s.events.list()) == [_day(-1), _day(0)]
        names = {p.name for p in s.events.partitions()}
        assert f"events_p{_day(-9):%Y%m%d}" not in names and "events_default" in names


async def test_async_log(astore: pgrecall.AsyncStore) -> None:
    async with astore.session(tenant="acme") as s:
        assert await s.events.log_many([NewEvent(type="x")]) == 1
        assert (await s.events.list())[0].type == "x"
