"""Choosing a replica for a read-only session (the async source of ``router.py``).

The store hands the router a ``begin`` callable that starts the session's transaction
(read-only, tenant set) and runs one probe query in the same round trip; the probe
reports whether the server is a standby, whether it has replayed a given LSN, and its
replay lag. A replica that is behind or gone costs that one round trip, then the
session goes elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ..errors import PgRecallError
from ..query.blocking import sleep_async
from ..query.db_async import AsyncDB

__all__ = ["PROBE", "AsyncReplicaRouter", "ReplicaState"]

logger = logging.getLogger("pgrecall.replicas")

#: One row: is this a standby, has it replayed ``%(lsn)s`` (NULL = nothing to wait
#: for), and how far behind is it (seconds; 0 when it has replayed all it received).
PROBE = """
SELECT pg_is_in_recovery() AS standby,
       coalesce(pg_last_wal_replay_lsn() >= %(lsn)s::pg_lsn, true) AS caught_up,
       CASE
           WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
           ELSE coalesce(
               extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
       END::float8 AS lag
"""
_CAUGHT_UP = "SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)"
_POLL = 0.001  # seconds between read-your-writes checks

ProbeRow = tuple[Any, ...] | None
Begin = Callable[[AsyncDB, dict[str, Any]], Awaitable[ProbeRow]]


@dataclass(frozen=True)
class ReplicaState:
    """What the probe said of one replica."""

    standby: bool
    caught_up: bool
    lag: float


Pool = AsyncConnectionPool[Any]
MakePool = Callable[[str, str], Pool]


class _Replica:
    def __init__(self, url: str, name: str, make_pool: MakePool) -> None:
        self.url = url
        self.make_pool = make_pool
        self.pool = make_pool(url, name)
        self.down_until = 0.0
        self.suspect = False  # failed before: probe it before trusting its pool again

    @property
    def name(self) -> str:
        return self.pool.name


class AsyncReplicaRouter:
    """Round robin over the replicas' pools; see the package docstring."""

    def __init__(
        self,
        urls: list[str],
        make_pool: MakePool,
        *,
        max_lag: float,
        wait: float,
        retry_after: float,
        timeout: float,
        echo: bool = False,
    ) -> None:
        self.replicas = [
            _Replica(url, f"pgrecall-replica-{i}", make_pool) for i, url in enumerate(urls)
        ]
        self.max_lag = max_lag
        self.wait = wait
        self.retry_after = retry_after
        self.timeout = timeout
        self.echo = echo
        self._next = 0
        #: Sessions that ran on a replica / fell back to the primary (for tests, bench).
        self.used = 0
        self.fallbacks = 0

    def __bool__(self) -> bool:
        return bool(self.replicas)

    async def open(self) -> None:
        for r in self.replicas:
            await r.pool.open(wait=False)

    async def close(self) -> None:
        for r in self.replicas:
            await r.pool.close()

    def _candidates(self) -> list[_Replica]:
        now = time.monotonic()
        n = len(self.replicas)
        start, self._next = self._next, (self._next + 1) % max(n, 1)
        ordered = self.replicas[start:] + self.replicas[:start]
        return [r for r in ordered if r.down_until <= now]

    def mark_down(self, replica: object, reason: object) -> None:
        """Leave ``replica`` alone for ``retry_after`` seconds."""
        for r in self.replicas:
            if r is replica:
                r.down_until = time.monotonic() + self.retry_after
                r.suspect = True
                logger.warning("replica %s unusable for %ss: %s", r.name, self.retry_after, reason)

    async def checkout(
        self, stack: AsyncExitStack, lsn: str | None, begin: Begin
    ) -> tuple[AsyncDB, object] | None:
        """A replica connection with the session begun, entered into ``stack``; ``None``
        when no replica is usable (the caller then uses the primary)."""
        for replica in self._candidates():
            if replica.suspect and not await self._revive(replica):
                continue
            found = await self._try(replica, stack, lsn, begin)
            if found is not None:
                self.used += 1
                return found, replica
        self.fallbacks += 1
        return None

    async def _revive(self, replica: _Replica) -> bool:
        """A replica that failed gets a direct connection attempt (a stopped server says
        so at once) and, when it answers, a fresh pool: the old one may be backing off."""
        try:
            probe = await psycopg.AsyncConnection.connect(
                replica.url, connect_timeout=max(1, round(self.timeout))
            )
            await probe.close()
        except psycopg.Error as exc:
            self.mark_down(replica, exc)
            return False
        old, replica.pool = replica.pool, replica.make_pool(replica.url, replica.pool.name)
        await replica.pool.open(wait=False)
        await old.close(timeout=0)
        replica.suspect = False
        return True

    async def _try(
        self, replica: _Replica, stack: AsyncExitStack, lsn: str | None, begin: Begin
    ) -> AsyncDB | None:
        async with AsyncExitStack() as attempt:
            try:
                conn = await attempt.enter_async_context(
                    replica.pool.connection(timeout=self.timeout)
                )
                db = AsyncDB(conn, echo=self.echo)
                row = await begin(db, {"lsn": lsn})
                state = ReplicaState(*row) if row is not None else None
                if state is None or not await self._usable(replica, db, state, lsn):
                    return None
            except (PoolTimeout, psycopg.OperationalError, PgRecallError) as exc:
                self.mark_down(replica, exc)
                return None
            stack.push_async_exit(attempt.pop_all())
            return db
        return None  # pragma: no cover (the block always returns)

    async def _usable(
        self, replica: _Replica, db: AsyncDB, state: ReplicaState, lsn: str | None
    ) -> bool:
        if not state.standby:
            self.mark_down(replica, "not a standby (promoted?)")
            return False
        if state.lag > self.max_lag:
            logger.debug("replica %s lags %.3fs: using the primary", replica.name, state.lag)
            return False
        return state.caught_up or await self._wait_for(db, lsn)

    async def _wait_for(self, db: AsyncDB, lsn: str | None) -> bool:
        """Poll until the replica has replayed ``lsn``, at most ``wait`` seconds."""
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            await sleep_async(_POLL)
            cur = await db.conn.execute(_CAUGHT_UP, (lsn,))
            row = await cur.fetchone()
            if row is not None and row[0]:
                return True
        return False
