"""Helpers of the tests (no tests here): wait for a state of the server, not a duration."""

from __future__ import annotations

import threading

import psycopg

__all__ = ["WAITING_ON_A_LOCK", "wait_for"]

# (count, application_name): that many backends of the application wait on a lock
WAITING_ON_A_LOCK = """
SELECT count(*) >= %s FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name = %s
"""


def wait_for(
    url: str, sql: str, params: tuple[object, ...] = (), *, what: str, guard: float = 120
) -> None:
    """Poll ``sql`` (one boolean) until it is true. ``guard`` only turns a hang into a
    failure; it is no bound on how fast anything is."""
    pause = threading.Event()  # never set: a wait that is not a sleep-then-assert
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(int(guard / 0.02)):
            row = conn.execute(sql, params).fetchone()
            if row and row[0]:
                return
            pause.wait(0.02)
    raise AssertionError(f"never happened: {what}")
