"""``s.stats``: the tenant's numbers, each one SQL statement returning row models."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from ..errors import ValidationError
from ..models.ops import ConversationTotals, EventsPerDay, ModelUsage, RunOutcome, TableCount
from ._base_async import AsyncArea
from .users_async import check_user_id
from .validate import as_uuid, check_limit, opt_text

__all__ = ["AsyncStats"]

_FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def _range(since: datetime | None, until: datetime | None) -> dict[str, datetime]:
    for value, what in ((since, "since"), (until, "until")):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValidationError(f"{what} must be a timezone-aware datetime")
    return {"since": since or _FAR_PAST, "until": until or _FAR_FUTURE}


class AsyncStats(AsyncArea):
    async def counts(self) -> dict[str, int]:
        """Rows of this tenant per pgrecall table (every table with a ``tenant_id``)."""
        rows = await self.db.many(self.q.tenant_table_counts, TableCount, tenant_id=self.t)
        return {r.table_name: r.row_count for r in rows}

    async def conversation_totals(
        self,
        conversation_id: UUID | str | None = None,
        *,
        user_id: str | None = None,
        limit: int = 100,
    ) -> list[ConversationTotals]:
        """Messages and tokens per conversation (one, a user's, or all), most tokens first."""
        return await self.db.many(
            self.q.conversation_totals,
            ConversationTotals,
            tenant_id=self.t,
            conversation_id=None
            if conversation_id is None
            else as_uuid(conversation_id, "conversation_id"),
            user_id=None if user_id is None else check_user_id(user_id),
            limit=check_limit(limit),
        )

    async def model_usage(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[ModelUsage]:
        """Per model: calls, tokens and latency p50 / p95 of the messages in the range."""
        return await self.db.many(
            self.q.model_usage, ModelUsage, tenant_id=self.t, **_range(since, until)
        )

    async def events_per_day(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        type: str | None = None,
    ) -> list[EventsPerDay]:
        """Event counts per day (UTC) and type."""
        return await self.db.many(
            self.q.events_per_day,
            EventsPerDay,
            tenant_id=self.t,
            type=opt_text(type, "type", 200),
            **_range(since, until),
        )

    async def run_outcomes(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[RunOutcome]:
        """Runs by kind and status: count, tokens, cost, duration p50 / p95."""
        return await self.db.many(
            self.q.run_outcomes, RunOutcome, tenant_id=self.t, **_range(since, until)
        )
