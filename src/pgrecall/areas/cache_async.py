"""``s.cache``: a key / JSON-value result cache with TTL, in an UNLOGGED table.

UNLOGGED means fast writes (no WAL) but an empty cache after a crash and none on
replicas: keep only what can be recomputed here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from psycopg.types.json import Jsonb

from ..errors import ValidationError
from ..models.ops import CacheEntry, CacheStats
from ._base_async import AsyncArea
from .validate import (
    check_json,
    check_text,
    show,
)

__all__ = ["MAX_KEY", "MAX_TTL", "AsyncCache", "like_prefix"]

MAX_KEY = 1000
MAX_TTL = 10 * 365 * 86400.0  # ten years, in seconds


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching the strings that start with ``prefix`` (escaped)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValidationError("cache key must be non-empty text")
    return check_text(key, "cache key", max_len=MAX_KEY)


def _ttl(ttl: float | timedelta | None) -> float | None:
    """Seconds to live: positive and at most :data:`MAX_TTL`; ``None`` never expires."""
    if ttl is None:
        return None
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValidationError("ttl must be seconds (a number) or a timedelta")
    if not 0 < seconds <= MAX_TTL:
        raise ValidationError(
            f"ttl must be > 0 and at most {MAX_TTL:.0f} seconds, not {show(seconds)}"
        )
    return float(seconds)


class AsyncCache(AsyncArea):
    async def get(self, key: str, default: Any = None) -> Any:
        """The cached value, or ``default`` when absent or expired (a hit is counted)."""
        entry = await self.get_entry(key)
        return default if entry is None else entry.value

    async def get_entry(self, key: str) -> CacheEntry | None:
        """The live entry with its hit count (this read counted), or ``None``."""
        return await self.db.one(self.q.cache_get, CacheEntry, tenant_id=self.t, key=_key(key))

    async def peek(self, key: str) -> CacheEntry | None:
        """The entry, live or expired, without counting a hit."""
        return await self.db.one(self.q.cache_peek, CacheEntry, tenant_id=self.t, key=_key(key))

    async def set(
        self, key: str, value: Any, *, ttl: float | timedelta | None = None
    ) -> CacheEntry:
        """Store ``value`` (any JSON) for ``ttl`` seconds (``None``: no expiry)."""
        entry = await self.db.one(
            self.q.cache_set,
            CacheEntry,
            tenant_id=self.t,
            key=_key(key),
            value=Jsonb(check_json(value, "cache value")),
            ttl_s=_ttl(ttl),
        )
        assert entry is not None  # INSERT ... ON CONFLICT DO UPDATE always returns the row
        return entry

    async def add(self, key: str, value: Any, *, ttl: float | timedelta | None = None) -> bool:
        """Store ``value`` only if ``key`` has no live entry; ``True`` if stored."""
        entry = await self.db.one(
            self.q.cache_add,
            CacheEntry,
            tenant_id=self.t,
            key=_key(key),
            value=Jsonb(check_json(value, "cache value")),
            ttl_s=_ttl(ttl),
        )
        return entry is not None

    async def get_or_set(
        self,
        key: str,
        factory: Callable[[], Awaitable[Any]],
        *,
        ttl: float | timedelta | None = None,
    ) -> Any:
        """The cached value; on a miss, ``factory()`` computes it and it is stored.

        When two callers miss at once, both compute, the first stored value wins and
        both return it. The session's transaction stays open while ``factory`` runs.
        """
        entry = await self.get_entry(key)
        if entry is not None:
            return entry.value
        value = await factory()
        if await self.add(key, value, ttl=ttl):
            return value
        winner = await self.peek(key)  # a concurrent caller stored it first
        return value if winner is None else winner.value

    async def delete(self, key: str) -> bool:
        return await self.db.execute(self.q.cache_delete, tenant_id=self.t, key=_key(key)) > 0

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; returns how many."""
        pattern = like_prefix(_key(prefix))
        return await self.db.execute(self.q.cache_delete_prefix, tenant_id=self.t, pattern=pattern)

    async def purge_expired(self) -> int:
        """Delete the tenant's expired entries; returns how many."""
        return await self.db.execute(self.q.cache_purge_expired, tenant_id=self.t)

    async def stats(self) -> CacheStats:
        return await self.db.get(self.q.cache_stats, CacheStats, tenant_id=self.t)
