"""Migrations on a live database: short lock waits, retried with backoff.

A DDL statement that needs a strong lock (``ALTER TABLE`` takes ACCESS EXCLUSIVE) waits
behind every transaction that holds a conflicting lock, and while it waits, every later
query on that table (even a plain ``SELECT``) queues behind *it*. One long report query
then stops the whole application for as long as it runs.

So each transactional migration runs with a short ``lock_timeout`` (``SET LOCAL``, in
the migration's own transaction): if a lock is not granted in time, the statement fails
with SQLSTATE 55P03, the migration's transaction rolls back (nothing half-applied), the
queued application queries go on, and the migration is tried again after a jittered,
doubling delay, a bounded number of times. Application queries are therefore never
blocked by a migration's lock *wait* for longer than ``lock_timeout``. The
``statement_timeout`` bounds each statement once it runs (a rewrite holding its lock).

Non-transactional migrations (``-- transactional: false``: ``CREATE / DROP / REINDEX
... CONCURRENTLY``) run with both timeouts off. Their SHARE UPDATE EXCLUSIVE lock does
not conflict with reads or writes, so their waits block no application query; and they
wait for older transactions to finish as part of the build, so a timeout would cancel
the build half way and leave an INVALID index behind (which ``migrate`` then reports).
They are not retried: statements before a failing one stay applied.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError
from ..settings import Settings

__all__ = ["LOCK_NOT_AVAILABLE", "LiveSafety", "oldest_transactions", "set_timeouts"]

#: SQLSTATE of a lock that was not granted within ``lock_timeout``.
LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class LiveSafety:
    """How a migration behaves on a database with traffic (seconds; 0 turns a timeout off).

    ``lock_timeout``: the longest a statement of a transactional migration waits for a
    lock. ``statement_timeout``: the longest one statement runs. ``retries``: how many
    times a migration that hit ``lock_timeout`` is tried again (so at most
    ``retries + 1`` attempts). ``retry_delay``: the first wait between attempts, doubled
    each time up to ``max_delay``, each wait jittered down by up to half.
    """

    lock_timeout: float = 5.0
    statement_timeout: float = 3600.0
    retries: int = 5
    retry_delay: float = 1.0
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        for name in ("lock_timeout", "statement_timeout", "retry_delay", "max_delay"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ConfigurationError(f"migration {name} must be a number >= 0, not {value!r}")
        if not isinstance(self.retries, int) or isinstance(self.retries, bool):
            raise ConfigurationError(f"migration retries must be an integer, not {self.retries!r}")
        if not 0 <= self.retries <= 1000:
            raise ConfigurationError(f"migration retries must be 0..1000, not {self.retries}")

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> LiveSafety:
        """From ``PGRECALL_MIGRATE_STATEMENT_LOCK_TIMEOUT``, ``..._STATEMENT_TIMEOUT``,
        ``..._LOCK_RETRIES`` and ``..._LOCK_RETRY_DELAY`` (or the given settings)."""
        s = settings if settings is not None else Settings()
        return cls(
            lock_timeout=s.migrate_statement_lock_timeout,
            statement_timeout=s.migrate_statement_timeout,
            retries=s.migrate_lock_retries,
            retry_delay=s.migrate_lock_retry_delay,
        )

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        full = min(self.max_delay, self.retry_delay * 2.0 ** min(retry - 1, 60))
        return full * random.uniform(0.5, 1.0)


def _ms(seconds: float) -> str:
    """A PostgreSQL duration; a positive value never rounds down to 0 (which means off)."""
    return "0" if seconds <= 0 else f"{max(1, math.ceil(seconds * 1000))}ms"


def set_timeouts(conn: Any, safety: LiveSafety, *, transactional: bool) -> None:
    """Set the timeouts on a migration's connection (``SET LOCAL`` when transactional)."""
    if transactional:
        lock, statement = _ms(safety.lock_timeout), _ms(safety.statement_timeout)
    else:
        lock = statement = "0"
    conn.execute(
        "SELECT set_config('lock_timeout', %s, %s), set_config('statement_timeout', %s, %s)",
        (lock, transactional, statement, transactional),
    )


def oldest_transactions(conn: Any, limit: int = 3) -> str:
    """The longest-open transactions of the database but ours, one of which most likely
    holds the lock a migration gave up on (named after the fact: the lock is gone)."""
    rows = conn.execute(
        """
        SELECT pid, application_name, usename::text, state,
               date_trunc('second', clock_timestamp() - xact_start)::text, left(query, 60)
        FROM pg_stat_activity
        WHERE datname = current_database() AND xact_start IS NOT NULL
          AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND application_name <> 'pgrecall migrate'
        ORDER BY xact_start
        LIMIT %s
        """,
        (limit,),
    ).fetchall()
    return "; ".join(
        f"pid {pid} ({app!r}, user {user}, {state}, transaction open {age}, last query {q!r})"
        for pid, app, user, state, age, q in rows
    )
