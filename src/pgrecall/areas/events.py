# Generated from events_async.py by tools/async_to_sync.py: do not edit.
"""``s.events``: analytics events and system logs (one table, partitioned by day)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from ..errors import ValidationError
from ..models.ops import EVENT_LEVELS, Event, EventLevel, EventPartition, NewEvent, PartitionName
from ..query.citus import bulk_insert, is_citus
from ._base import Area
from .validate import (
    as_uuid,
    check_after,
    check_aware,
    check_choice,
    check_count,
    check_key,
    check_limit,
    check_object,
    check_seq,
    check_text,
    opt_key,
    opt_text,
    opt_uuid,
)

__all__ = ["MAX_MESSAGE", "Events", "check_event", "event_row"]

MAX_MESSAGE = 100_000
_FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
# the columns of copy_event_stage, in order (and the parameters of log_event)
STAGE_COLUMNS = (
    "occurred_at", "type", "service", "level", "message", "details", "request_id",
    "conversation_id", "user_id", "run_id", "duration_ms",
)  # fmt: skip


def check_event(e: NewEvent) -> tuple[Any, ...]:
    """Validate an event; the row in the column order of ``copy_event_stage``."""
    return event_row(**dict(e))


def event_row(
    *,
    type: str,
    service: str | None = None,
    level: str = "info",
    message: str | None = None,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
    conversation_id: UUID | str | None = None,
    user_id: str | None = None,
    run_id: UUID | str | None = None,
    duration_ms: int | None = None,
    occurred_at: datetime | None = None,
) -> tuple[Any, ...]:
    """The one validation path of an event's fields (``log`` and ``log_many``)."""
    check_choice(level, EVENT_LEVELS, "level")
    return (
        check_aware(occurred_at, "occurred_at"),
        check_key(type, "type"),
        opt_text(service, "service", 200),
        level,
        opt_text(message, "message", MAX_MESSAGE),
        Jsonb(check_object(details, "details")),
        opt_key(request_id, "request_id"),
        opt_uuid(conversation_id, "conversation_id"),
        opt_key(user_id, "user_id"),
        opt_uuid(run_id, "run_id"),
        check_count(duration_ms, "duration_ms"),
    )


class Events(Area):
    def log(
        self,
        type: str,
        *,
        message: str | None = None,
        level: EventLevel = "info",
        service: str | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        conversation_id: UUID | str | None = None,
        user_id: str | None = None,
        run_id: UUID | str | None = None,
        duration_ms: int | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Log one event (``occurred_at`` defaults to now)."""
        row = event_row(
            type=type,
            message=message,
            level=level,
            service=service,
            details=details,
            request_id=request_id,
            conversation_id=conversation_id,
            user_id=user_id,
            run_id=run_id,
            duration_ms=duration_ms,
            occurred_at=occurred_at,
        )
        params = dict(zip(STAGE_COLUMNS, row, strict=True))
        event = self.db.one(self.q.log_event, Event, tenant_id=self.t, **params)
        assert event is not None  # INSERT ... RETURNING always returns the row
        return event

    def log_many(self, events: Iterable[NewEvent]) -> int:
        """Log a batch through binary COPY (into a staging table, then one INSERT, so
        row level security checks every row); returns how many were logged.

        Every event is validated before anything is sent.
        """
        rows = [check_event(e) for e in events]
        if not rows:
            return 0
        if is_citus(self.db.conn):  # RLS refuses the stage's INSERT ... SELECT there
            return sum(
                [self.db.run(q, args) for q, args in bulk_insert("events", self.t, rows)]
            )
        self.db.execute(self.q.create_event_stage)
        self.db.copy(self.q.copy_event_stage, rows)
        return self.db.execute(self.q.flush_event_stage, tenant_id=self.t)

    def of_conversation(
        self, conversation_id: UUID | str, *, limit: int = 1000
    ) -> list[Event]:
        return self.db.many(
            self.q.events_of_conversation,
            Event,
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
            limit=check_limit(limit),
        )

    def of_request(self, request_id: str, *, limit: int = 1000) -> list[Event]:
        return self.db.many(
            self.q.events_of_request,
            Event,
            tenant_id=self.t,
            request_id=check_text(request_id, "request_id", max_len=200),
            limit=check_limit(limit),
        )

    def create_partitions(self, *, days: int = 8, from_day: date | None = None) -> list[str]:
        """Create the missing daily partitions ``[from_day, from_day + days)`` (default:
        from yesterday, UTC); returns the names created."""
        if from_day is not None and (
            not isinstance(from_day, date) or isinstance(from_day, datetime)
        ):
            raise ValidationError(f"from_day must be a date, not {type(from_day).__name__}")
        start = from_day or (datetime.now(UTC).date() - timedelta(days=1))
        rows = self.db.many(
            self.q.create_event_partitions,
            PartitionName,
            from_day=start,
            days=0 if days == 0 and days is not False else check_limit(days, 3660, "days"),
        )
        return [r.name for r in rows]

    def partitions(self) -> list[EventPartition]:
        """The partitions of ``pgrecall.events``, with this tenant's row count in each."""
        return self.db.many(self.q.list_event_partitions, EventPartition, tenant_id=self.t)

    def list(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        type: str | None = None,
        service: str | None = None,
        levels: Sequence[EventLevel] | None = None,
        limit: int = 100,
        after: Event | None = None,
    ) -> list[Event]:
        """Events in ``[since, until)``, newest first; ``after`` = last of the previous page."""
        wanted = None if levels is None else [
            check_choice(x, EVENT_LEVELS, "levels") for x in check_seq(levels, "levels")
        ]
        if wanted == []:
            raise ValidationError(f"levels must be some of {sorted(EVENT_LEVELS)}")
        after = check_after(after, Event)
        return self.db.many(
            self.q.list_events,
            Event,
            tenant_id=self.t,
            since=check_aware(since, "since") or _FAR_PAST,
            until=check_aware(until, "until") or _FAR_FUTURE,
            type=opt_text(type, "type", 200),
            service=opt_text(service, "service", 200),
            levels=wanted,
            before_at=after.occurred_at if after else None,
            before_id=after.id if after else None,
            limit=check_limit(limit),
        )
