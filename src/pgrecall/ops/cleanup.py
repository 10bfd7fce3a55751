"""Retention: event partitions ahead and behind, expired cache and memories, old soft deletes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..areas.validate import check_tenant
from ..errors import ConfigurationError, ValidationError
from ..models.ops import EventPartition, PartitionName
from ..query.citus import set_tenant
from .catalog import CleanupReport

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["CLEANUP_STEPS", "cleanup"]

#: How many steps :func:`cleanup` reports to its ``progress`` callback.
CLEANUP_STEPS = 5

#: Retention in days at most (a hundred years; more overflows a timestamp).
MAX_DAYS = 36_500
#: Partitions ahead at most: the application role may create them up to today + 400
#: (migration 0017).
MAX_AHEAD_DAYS = 400


def _check_days(value: object, what: str, maximum: int, none: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValidationError(f"{what} must be a whole number of days, 0 to {maximum}{none}")


def cleanup(
    store: Store,
    *,
    tenant: str | None = None,
    events_days: int | None = 90,
    deleted_days: int | None = 30,
    ahead_days: int = 7,
    progress: Callable[[str], None] | None = None,
) -> CleanupReport:
    """Retention in one call (run it daily, e.g. ``pgrecall cleanup`` from cron).

    Creates event partitions for the next ``ahead_days`` days, drops those older than
    ``events_days`` (``None`` keeps all), deletes expired cache entries and memories,
    and purges conversations soft-deleted more than ``deleted_days`` days ago
    (``None`` keeps them).

    Without ``tenant`` it works on every tenant: partitions are dropped whole (the
    table owner's job) and rows are deleted across tenants, which needs a role that
    bypasses row level security (superuser or BYPASSRLS): :class:`ConfigurationError`
    otherwise, before anything changes. With ``tenant``, only that tenant's rows go
    (any role with the table privileges will do) and no partition is dropped.
    ``progress(step)`` is told as each of the :data:`CLEANUP_STEPS` starts.
    """
    tell = progress or (lambda step: None)
    for value, what in ((events_days, "events_days"), (deleted_days, "deleted_days")):
        if value is not None:
            _check_days(value, what, MAX_DAYS, ", or None")
    _check_days(ahead_days, "ahead_days", MAX_AHEAD_DAYS)
    tenant = None if tenant is None else check_tenant(tenant)
    with store.transaction() as db:
        q = store.queries
        if tenant is None and not db.scalar(q.role_bypasses_rls, bool):
            raise ConfigurationError(
                "cleanup of every tenant needs a role that bypasses row level security "
                "(superuser or BYPASSRLS); pass a tenant to clean up one tenant"
            )
        if tenant is not None:
            set_tenant(db.conn, tenant)
        tell("event partitions ahead")
        created = db.many(
            q.create_event_partitions,
            PartitionName,
            from_day=datetime.now(UTC).date(),
            days=ahead_days + 1,
        )
        tell("old event partitions")
        dropped: list[EventPartition] = []
        if events_days is not None and tenant is None:  # partitions hold every tenant
            dropped = db.many(q.drop_event_partitions, EventPartition, keep_days=events_days)
        tell("deleted conversations")
        conversations = 0
        if deleted_days is not None:
            conversations = db.execute(
                q.cleanup_deleted_conversations, tenant_id=tenant, days=deleted_days
            )
        tell("expired cache entries")
        cache = db.execute(q.cleanup_expired_cache, tenant_id=tenant)
        tell("expired memories")
        memories = db.execute(q.cleanup_expired_memories, tenant_id=tenant)
        return CleanupReport(
            tenant=tenant,
            partitions_created=[p.name for p in created],
            partitions_dropped={p.name: p.row_count for p in dropped if p.day is not None},
            events_deleted_from_default=sum(p.row_count for p in dropped if p.day is None),
            cache_entries_expired=cache,
            conversations_purged=conversations,
            memories_expired=memories,
        )


