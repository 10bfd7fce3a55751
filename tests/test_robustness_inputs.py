"""Issue 10.8 / 10.12: every bad public parameter is a ValidationError naming it, before SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

import pgrecall
from pgrecall import ValidationError, ops

NAIVE, DAY = datetime(2025, 1, 1), date(2025, 1, 1)
HUGE_INT = 10**4301  # json.dumps refuses ints of more than 4300 digits (ValueError)

CASES: list[tuple[str, str, Callable[[pgrecall.Session], Any]]] = [
    ("users.list NUL", "after", lambda s: s.users.list(after="a\x00")),
    ("users.list surrogate", "after", lambda s: s.users.list(after="\ud800")),
    ("users.list int", "after", lambda s: s.users.list(after=5)),  # type: ignore[arg-type]
    ("events.log level", "level", lambda s: s.events.log("t", level="loud")),  # type: ignore[arg-type]
    ("events.log details", "details", lambda s: s.events.log("t", details="x")),  # type: ignore[arg-type]
    ("events.log details key", "details", lambda s: s.events.log("t", details={1: 2})),  # type: ignore[dict-item]
    ("events.log duration", "duration_ms", lambda s: s.events.log("t", duration_ms=-1)),
    ("events.log duration str", "duration_ms", lambda s: s.events.log("t", duration_ms="5")),  # type: ignore[arg-type]
    ("events.log naive", "occurred_at", lambda s: s.events.log("t", occurred_at=NAIVE)),
    ("events.log date", "occurred_at", lambda s: s.events.log("t", occurred_at=DAY)),  # type: ignore[arg-type]
    ("events.log int", "occurred_at", lambda s: s.events.log("t", occurred_at=5)),  # type: ignore[arg-type]
    ("events.log type", "type", lambda s: s.events.log(5)),  # type: ignore[arg-type]
    ("runs.create naive", "available_at", lambda s: s.runs.create("k", available_at=NAIVE)),
    ("runs.create date", "available_at", lambda s: s.runs.create("k", available_at=DAY)),  # type: ignore[arg-type]
    ("runs.create int", "available_at", lambda s: s.runs.create("k", available_at=5)),  # type: ignore[arg-type]
    ("json metadata", "metadata", lambda s: s.conversations.create("u", metadata={"n": HUGE_INT})),
    ("json input", "input", lambda s: s.runs.create("k", input=[HUGE_INT])),
    ("json details", "details", lambda s: s.events.log("t", details={"n": -HUGE_INT})),
    ("json cache", "value", lambda s: s.cache.set("k", {"n": HUGE_INT})),
    ("blank user_id", "user_id", lambda s: s.users.upsert("  ")),
    ("blank user_id create", "user_id", lambda s: s.conversations.create(user_id="\t")),
    ("blank request_id", "request_id", lambda s: s.runs.create("k", request_id=" ")),
    ("blank worker_id", "worker_id", lambda s: s.runs.claim_next("k", worker_id=" ")),
    ("blank kind", "kind", lambda s: s.runs.create("  ")),
    ("blank model", "model", lambda s: s.embeddings.declare_model(" ", dimensions=3)),
    ("blank event type", "type", lambda s: s.events.log(" ")),
    ("blank event request_id", "request_id", lambda s: s.events.log("t", request_id=" ")),
]


def test_bad_parameter_is_a_validation_error_naming_it(store: pgrecall.Store) -> None:
    wrong: list[str] = []
    with store.session(tenant="acme") as s:
        for name, param, call in CASES:
            try:
                call(s)
            except ValidationError as exc:  # refused before any SQL, naming the parameter
                if param not in str(exc) or exc.sqlstate is not None:
                    wrong.append(f"{name}: {exc!r} (sqlstate {exc.sqlstate})")
            except Exception as exc:  # collect every case
                wrong.append(f"{name}: {exc!r}")
            else:
                wrong.append(f"{name}: accepted")
    assert wrong == []


CLEANUP: list[tuple[dict[str, Any], str]] = [
    ({"ahead_days": 10**12}, "ahead_days"),
    ({"ahead_days": "7"}, "ahead_days"),
    ({"ahead_days": None}, "ahead_days"),
    ({"ahead_days": -1}, "ahead_days"),
    ({"ahead_days": 401}, "ahead_days"),
    ({"deleted_days": 10**12}, "deleted_days"),
    ({"deleted_days": "30"}, "deleted_days"),
    ({"events_days": 2**31}, "events_days"),
    ({"events_days": 1.5}, "events_days"),
]


def test_cleanup_days_are_checked(store: pgrecall.Store) -> None:
    for kwargs, param in CLEANUP:
        with pytest.raises(ValidationError, match=param) as err:
            ops.cleanup(store, tenant="acme", **kwargs)
        assert err.value.sqlstate is None
    report = ops.cleanup(store, tenant="acme", ahead_days=400, events_days=None, deleted_days=0)
    assert len(report.partitions_created) >= 390


def test_aware_available_at_still_works(store: pgrecall.Store) -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    with store.session(tenant="acme") as s:
        assert s.runs.create("k", available_at=when).available_at == when
        assert s.conversations.create("u", metadata={"n": 10**4000}).metadata == {"n": 10**4000}
