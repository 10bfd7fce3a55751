"""Migrations on a database with traffic: a short lock_timeout per migration, retried.

A long transaction holds a lock on the table a migration alters. The migration's
``ALTER TABLE`` must give up within its lock timeout (so the application queries queued
behind it go on), roll back, retry with backoff, and succeed once the blocker is gone.
Everything is observed in ``pg_stat_activity`` / ``pg_locks`` and the migration log;
nothing is timed on the client's clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, LiteralString, TypeVar

import psycopg
import pytest

import pgrecall
from pgrecall.cli import main
from pgrecall.errors import ConfigurationError, MigrationError
from pgrecall.migrate import LiveSafety, Report, migrate, rollback, status
from pgrecall.migrate.live import _ms
from pgrecall.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "migrations"
LIVE = FIXTURES / "live"
SLOW = FIXTURES / "slow"
LIVE_IDS = ["0801_live_note", "0802_live_note_idx"]
T = TypeVar("T")


def wait_for(check: Callable[[], T], what: str, timeout: float = 30) -> T:
    """Poll ``check`` until it returns something truthy (a guard, not a measurement)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def scalar(conn: psycopg.Connection[Any], query: LiteralString, params: Any = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


class Retries(logging.Handler):
    """Counts the migration log's lock-timeout retries, per migration."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[tuple[str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "lock_timeouts"):
            self.seen.append((getattr(record, "migration", ""), record.lock_timeouts))

    def count(self, mid: str) -> int:
        return sum(1 for m, _ in self.seen if m == mid)


@pytest.fixture
def retries() -> Iterator[Retries]:
    handler = Retries()
    log = logging.getLogger("pgrecall.migrations")
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)


@pytest.fixture
def monitor(empty_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE live_items (id integer PRIMARY KEY)")
        conn.execute("INSERT INTO live_items SELECT generate_series(1, 10)")
        yield conn


class Background:
    """A call run on a thread; its result or exception is read on the test's thread."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.result = fn()
        except BaseException as exc:  # handed to the test's thread
            self.error = exc

    def join(self, timeout: float = 60) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "still running"
        if self.error is not None:
            raise self.error
        return self.result


def alter_waiting(monitor: psycopg.Connection[Any]) -> int:
    """The pid of the migration's ALTER TABLE while it waits for its lock."""
    pid: int = scalar(
        monitor,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query ~ 'ALTER TABLE live_items'",
    )
    return pid or 0


def app_select(url: str, pids: list[int]) -> int:
    """An application query on the table; reports its backend pid before it runs."""
    with psycopg.connect(url, autocommit=True, application_name="live-app") as conn:
        pids.append(conn.info.backend_pid)
        return int(scalar(conn, "SELECT count(*) FROM live_items"))


def test_a_blocked_migration_times_out_retries_and_never_holds_up_the_app(
    empty_db_url: str, monitor: psycopg.Connection[Any], retries: Retries
) -> None:
    safety = LiveSafety(lock_timeout=1.0, retries=200, retry_delay=0.05, max_delay=0.2)
    with psycopg.connect(empty_db_url) as blocker:  # a long report: ACCESS SHARE, held
        assert scalar(blocker, "SELECT count(*) FROM live_items") == 10
        run = Background(lambda: migrate(empty_db_url, sources=[LIVE], safety=safety))

        seen_blocked = False
        for _ in range(10):  # each cycle: catch one attempt waiting, queue a query behind it
            mig_pid = wait_for(lambda: alter_waiting(monitor), "the ALTER waiting for its lock")
            pids: list[int] = []
            app = Background(lambda p=pids: app_select(empty_db_url, p))  # type: ignore[misc]

            def blocked_or_done(
                p: list[int] = pids, mig: int = mig_pid, app: Background = app
            ) -> str | None:
                if not app.thread.is_alive():
                    return "done"
                if p and mig in (
                    scalar(monitor, "SELECT pg_blocking_pids(%s)", (p[0],)) or []
                ):
                    return "blocked"
                return None

            seen_blocked |= wait_for(blocked_or_done, "the app query") == "blocked"
            # The app query finishes while the blocker still holds its lock: the migration
            # gave up its place in the lock queue (lock_timeout) instead of waiting it out.
            assert app.join(30) == 10
            assert blocker.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            if seen_blocked:
                break
        assert seen_blocked, "never saw an application query queued behind the migration"
        wait_for(lambda: retries.count("0801_live_note") >= 2, "two lock-timeout retries")
        assert scalar(monitor, "SELECT to_regclass('live_items_note_idx')") is None
        blocker.commit()  # the long transaction ends; the next attempt gets its lock

        report: Report = run.join()
    assert report.applied == LIVE_IDS
    assert report.lock_timeouts["0801_live_note"] >= 2
    assert report.lock_timeouts["0801_live_note"] == retries.count("0801_live_note")
    assert "0801_live_note:" in report.render() and "lock timeout(s), retried" in report.render()
    assert scalar(monitor, "SELECT count(note) FROM live_items") == 0  # the column exists
    assert {s.id: s.state for s in status(empty_db_url, sources=[LIVE])} == dict.fromkeys(
        LIVE_IDS, "applied"
    )


def test_a_migration_gives_up_after_its_retries_and_applies_nothing(
    empty_db_url: str, monitor: psycopg.Connection[Any], retries: Retries
) -> None:
    safety = LiveSafety(lock_timeout=0.05, retries=2, retry_delay=0)
    with psycopg.connect(empty_db_url, application_name="live-report") as blocker:
        blocker.execute("SELECT count(*) FROM live_items")
        with pytest.raises(MigrationError) as caught:
            migrate(empty_db_url, sources=[LIVE], safety=safety)
        blocker_pid = blocker.info.backend_pid
    assert caught.value.sqlstate == "55P03"
    message = str(caught.value)
    assert "could not apply 0801_live_note" in message
    assert "gave up after 3 attempts" in message and "pg_stat_activity" in message
    # the likely culprit is named: the longest-open transaction
    assert f"longest-open transactions: pid {blocker_pid} ('live-report'" in message
    assert "idle in transaction" in message and "SELECT count(*) FROM live_items" in message
    assert retries.count("0801_live_note") == 2
    assert scalar(
        monitor,
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = 'live_items' AND column_name = 'note'",
    ) == 0
    assert {s.id: s.state for s in status(empty_db_url, sources=[LIVE])} == dict.fromkeys(
        LIVE_IDS, "pending"
    )


def test_statement_timeout_stops_a_long_statement_without_retrying(
    empty_db_url: str, retries: Retries
) -> None:
    url = empty_db_url + ("&" if "?" in empty_db_url else "?") + (
        "application_name=pgrecall-test-pause"  # the slow fixture sleeps 1 s
    )
    safety = LiveSafety(statement_timeout=0.05, retries=3, retry_delay=0)
    with pytest.raises(MigrationError) as caught:
        migrate(url, sources=[SLOW], safety=safety)
    assert caught.value.sqlstate == "57014"  # query_canceled
    assert "statement timeout" in str(caught.value)
    assert retries.seen == []
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert scalar(conn, "SELECT to_regclass('slow_items')") is None  # rolled back whole


def test_a_concurrent_index_build_waits_for_old_transactions_without_lock_timeout(
    empty_db_url: str, monitor: psycopg.Connection[Any], retries: Retries
) -> None:
    """CREATE INDEX CONCURRENTLY waits for every older snapshot; under a lock_timeout it
    would be cancelled half way and leave an INVALID index. It blocks no query meanwhile."""
    safety = LiveSafety(lock_timeout=0.1, retries=0)
    with psycopg.connect(empty_db_url) as old:
        old.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        old.execute("SELECT 1")  # holds a snapshot, no lock on live_items
        run = Background(lambda: migrate(empty_db_url, sources=[LIVE], safety=safety))
        cic = wait_for(
            lambda: scalar(
                monitor,
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ~ 'CREATE INDEX CONCURRENTLY'",
            ),
            "the index build waiting for the old transaction",
        )
        # waiting far longer than lock_timeout (server clock) and still waiting, not failed
        wait_for(
            lambda: scalar(
                monitor,
                "SELECT clock_timestamp() - state_change > interval '1 second'"
                " FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                (cic,),
            ),
            "the index build to wait 10x its lock_timeout",
        )
        assert scalar(monitor, "SELECT count(*) FROM live_items") == 10  # not blocked
        old.commit()
        report: Report = run.join()
    assert report.applied == LIVE_IDS and report.lock_timeouts == {}
    assert scalar(
        monitor,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'live_items_note_idx'::regclass",
    )


def test_live_safety_backoff_is_bounded_doubling_and_jittered() -> None:
    safety = LiveSafety(retry_delay=1.0, max_delay=5.0)
    for retry, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0), (5000, 5.0)]:
        delays = [safety.delay(retry) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays), (retry, delays)
    assert LiveSafety(retry_delay=0).delay(3) == 0
    assert _ms(0) == "0" and _ms(0.0001) == "1ms" and _ms(5) == "5000ms"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lock_timeout": -1},
        {"statement_timeout": float("nan")},
        {"retries": -1},
        {"retries": 1.5},
        {"retries": True},
        {"retry_delay": float("inf")},
    ],
)
def test_live_safety_refuses_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        LiveSafety(**kwargs)


def test_live_safety_from_settings_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LiveSafety.from_settings(Settings()) == LiveSafety()
    monkeypatch.setenv("PGRECALL_MIGRATE_STATEMENT_LOCK_TIMEOUT", "2.5")
    monkeypatch.setenv("PGRECALL_MIGRATE_STATEMENT_TIMEOUT", "0")
    monkeypatch.setenv("PGRECALL_MIGRATE_LOCK_RETRIES", "9")
    monkeypatch.setenv("PGRECALL_MIGRATE_LOCK_RETRY_DELAY", "0.5")
    assert LiveSafety.from_settings() == LiveSafety(
        lock_timeout=2.5, statement_timeout=0, retries=9, retry_delay=0.5
    )


def test_cli_flags_reach_the_migration(
    empty_db_url: str,
    monitor: psycopg.Connection[Any],
    retries: Retries,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with psycopg.connect(empty_db_url) as blocker:
        blocker.execute("SELECT count(*) FROM live_items")
        code = main(
            [
                "--url",
                empty_db_url,
                "migrate",
                "--source",
                str(LIVE),
                "--statement-lock-timeout",
                "0.05",
                "--lock-retries",
                "1",
            ]
        )
    assert code == 2
    err = capsys.readouterr().err
    assert "MigrationError" in err and "gave up after 2 attempts" in err and "0.05 s" in err
    assert retries.count("0801_live_note") == 1
    assert main(["--url", empty_db_url, "migrate", "--statement-lock-timeout", "-1"]) == 2
    assert "lock_timeout must be a number >= 0" in capsys.readouterr().err


def test_store_migrate_uses_the_store_settings(
    empty_db_url: str, monitor: psycopg.Connection[Any], retries: Retries
) -> None:
    with pgrecall.connect(
        empty_db_url, pool_min_size=0, migrate_statement_lock_timeout=0.05, migrate_lock_retries=1
    ) as store, psycopg.connect(empty_db_url) as blocker:
        blocker.execute("SELECT count(*) FROM live_items")
        with pytest.raises(MigrationError, match="gave up after 2 attempts"):
            store.migrate(sources=[LIVE])
    assert retries.count("0801_live_note") == 1


@pytest.mark.parametrize("wait", [float("nan"), float("inf"), -1.0, "5"])
def test_a_bad_advisory_lock_wait_is_refused(empty_db_url: str, wait: Any) -> None:
    with pytest.raises(MigrationError, match="lock_timeout must be a number of seconds"):
        migrate(empty_db_url, sources=[LIVE], lock_timeout=wait)
    with pytest.raises(MigrationError, match="whole number >= 1"):
        rollback(empty_db_url, sources=[LIVE], count=True)
