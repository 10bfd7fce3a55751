"""Running migrations with yoyo: migrate, rollback and status."""

from __future__ import annotations

import glob
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import yoyo
from yoyo import exceptions as yoyo_errors

from ..errors import MigrationError, translate
from .files import _discover, _File, _source_dirs
from .ledger import (
    _LEDGER_DELETE,
    _LEDGER_UPSERT,
    _DbState,
    _drift,
    _ensure_ledger,
    _invalid_index_text,
    _invalid_indexes,
    _read_state,
    _refuse,
    _refuse_invalid_indexes,
    _sync_ledger,
    _to_adopt,
    _verify,
)
from .lint import _refuse_lint
from .live import LOCK_NOT_AVAILABLE, LiveSafety, oldest_transactions, set_timeouts
from .lock import Conn, _check_lock, _connect, _locked, _Target, _target, _try_lock, _unlock
from .report import ROLLBACK_SUFFIX, MigrationState, Report, logger

__all__ = ["migrate", "rollback", "status"]



@contextmanager
def _yoyo_backend(target: _Target) -> Iterator[Any]:
    """yoyo's backend, with its internal tables ready. Call only under the advisory lock."""
    try:
        backend = yoyo.get_backend(target.yoyo_uri)
    except psycopg.OperationalError as exc:
        raise translate(exc) from exc
    try:
        backend._is_locked = True  # the advisory lock serialises runs: no yoyo lock row
        backend.ensure_internal_schema_updated()
        yield backend
    finally:
        backend.connection.close()


def _yoyo_migrations(dirs: Sequence[Path]) -> dict[str, Any]:
    found = yoyo.read_migrations(*(glob.escape(str(d)) for d in dirs))
    return {m.id: m for m in found}


def _record(backend: Any, migration: Any, f: _File, direction: str) -> None:
    """yoyo's row, yoyo's log and the ledger row, in the caller's transaction."""
    if direction == "apply":
        backend.mark_one(migration, log=False)
        backend.connection.execute(_LEDGER_UPSERT, (migration.id, f.checksum))
    else:
        backend.unmark_one(migration, log=False)
        backend.connection.execute(_LEDGER_DELETE, (migration.id,))
    backend.log_migration(migration, direction)


def _run_one(backend: Any, migration: Any, f: _File, direction: str, safety: LiveSafety) -> None:
    """Apply or roll back one migration on a fresh yoyo connection.

    Transactional migrations commit together with their bookkeeping; non-transactional
    ones (index builds) run statement by statement, then record. The timeouts of
    :mod:`.live` are set first.
    """
    migration.load()
    with backend.copy() as conn_backend:
        conn_backend._internal_schema_updated = True
        if migration.use_transactions:
            with conn_backend.transaction():
                set_timeouts(conn_backend.connection, safety, transactional=True)
                migration.process_steps(conn_backend, direction)
                _record(conn_backend, migration, f, direction)
        else:
            set_timeouts(conn_backend.connection, safety, transactional=False)
            migration.process_steps(conn_backend, direction)
            with conn_backend.transaction():
                _record(conn_backend, migration, f, direction)


def _run_retrying(
    backend: Any, conn: Conn, migration: Any, f: _File, direction: str, safety: LiveSafety
) -> int:
    """Run one migration; a transactional one that hit ``lock_timeout`` (55P03) rolled
    back whole, so it is tried again after a backoff, up to ``safety.retries`` times.
    Returns how many lock timeouts it met."""
    timeouts = 0
    while True:
        try:
            _run_one(backend, migration, f, direction, safety)
            return timeouts
        except psycopg.Error as exc:
            retryable = exc.sqlstate == LOCK_NOT_AVAILABLE and f.header.transactional
            if not retryable or timeouts >= safety.retries:
                if retryable:
                    exc.add_note(
                        f"gave up after {timeouts + 1} attempts, each waiting at most "
                        f"{safety.lock_timeout:g} s for its locks: a long transaction holds a "
                        "lock this migration needs (see pg_stat_activity, pg_locks)"
                    )
                raise
            timeouts += 1
            delay = safety.delay(timeouts)
            logger.warning(
                "%s: lock not granted within %g s (SQLSTATE 55P03), rolled back; "
                "retry %d of %d in %.2f s",
                f.id,
                safety.lock_timeout,
                timeouts,
                safety.retries,
                delay,
                extra={"migration": f.id, "lock_timeouts": timeouts},
            )
            time.sleep(delay)
            _check_lock(conn, f.id)


def _failure(conn: Conn, report: Report, f: _File, exc: Exception) -> MigrationError:
    verb = "apply" if report.action == "migrate" else "roll back"
    done = report.applied if report.action == "migrate" else report.rolled_back
    sqlstate = exc.sqlstate if isinstance(exc, psycopg.Error) else None
    detail = str(exc).strip() or type(exc).__name__
    if notes := getattr(exc, "__notes__", None):
        detail += f" ({'; '.join(notes)})"
    if not f.header.transactional:
        detail += " (non-transactional: statements before the failing one stay applied)"
    before = f"; done before it: {', '.join(done)}" if done else ""
    try:
        invalid = _invalid_index_text(_invalid_indexes(conn))
        if sqlstate == LOCK_NOT_AVAILABLE and (oldest := oldest_transactions(conn)):
            detail += f"; the longest-open transactions: {oldest}"
    except psycopg.Error:  # the lock connection broke too: report the original error
        invalid = ""
    return MigrationError(
        f"could not {verb} {f.id} ({f.path}): {detail}{before}{invalid}", sqlstate=sqlstate
    )


def _run(
    backend: Any,
    conn: Conn,
    report: Report,
    files: dict[str, _File],
    dirs: Sequence[Path],
    safety: LiveSafety,
) -> None:
    direction = "apply" if report.action == "migrate" else "rollback"
    done = report.applied if report.action == "migrate" else report.rolled_back
    migrations = _yoyo_migrations(dirs)
    for mid in report.plan:
        _check_lock(conn, mid)
        try:
            timeouts = _run_retrying(backend, conn, migrations[mid], files[mid], direction, safety)
        except (psycopg.Error, yoyo_errors.BadMigration) as exc:
            raise _failure(conn, report, files[mid], exc) from exc
        if timeouts:
            report.lock_timeouts[mid] = timeouts
        done.append(mid)




def _check_wait(lock_timeout: float) -> None:
    if not isinstance(lock_timeout, (int, float)) or not math.isfinite(lock_timeout) or (
        lock_timeout < 0
    ):
        raise MigrationError(f"lock_timeout must be a number of seconds >= 0, not {lock_timeout!r}")


def _apply_plan(files: dict[str, _File], state: _DbState, dry_run: bool) -> Report:
    _verify(files, state)
    plan = sorted(m for m in files if m not in state.applied)
    return Report(
        adopted=_to_adopt(files, state),
        plan=plan,
        dry_run=dry_run,
        summaries={m: files[m].header.summary for m in plan},
    )


def migrate(
    url: str,
    *,
    sources: Sequence[Path] | None = None,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
    safety: LiveSafety | None = None,
) -> Report:
    """Apply pending migrations under the advisory lock; refuse on lint, drift or order.

    ``url``: ``postgres://``, ``postgresql://`` or ``postgresql+psycopg://``.
    ``sources``: migration directories (default: pgrecall's own). ``dry_run``: return
    the plan and change nothing. ``lock_timeout``: seconds to wait for another run's
    advisory lock. ``safety``: each migration's ``lock_timeout`` / ``statement_timeout``
    and its retries on a lock timeout (:class:`~pgrecall.migrate.LiveSafety`; default:
    from the ``PGRECALL_MIGRATE_*`` settings). Raises :class:`~pgrecall.errors.MigrationError`.
    """
    _check_wait(lock_timeout)
    dirs = _source_dirs(sources)
    _refuse_lint(dirs)
    files = _discover(dirs)
    target = _target(url)
    if dry_run:
        with _connect(target) as conn:
            return _apply_plan(files, _read_state(conn), dry_run=True)
    with _locked(target, lock_timeout) as conn, _yoyo_backend(target) as backend:
        state = _read_state(conn)
        report = _apply_plan(files, state, dry_run=False)
        _ensure_ledger(conn)
        _sync_ledger(conn, files, state)
        _run(backend, conn, report, files, dirs, safety or LiveSafety.from_settings())
        _refuse_invalid_indexes(conn, report)
    return report


def _rollback_refusal(mid: str, files: dict[str, _File], state: _DbState) -> str | None:
    if problem := _drift(mid, files, state):
        return problem
    f = files[mid]
    if f.rollback_path is None:
        reason = f.header.irreversible or f"no {mid}{ROLLBACK_SUFFIX}"
        return f"{f.path} cannot be rolled back: {reason}"
    return None


def _rollback_plan(files: dict[str, _File], state: _DbState, count: int, dry_run: bool) -> Report:
    plan = sorted(state.applied, reverse=True)[:count]
    _refuse("roll back", [r for mid in plan if (r := _rollback_refusal(mid, files, state))])
    return Report(
        adopted=_to_adopt(files, state),
        plan=plan,
        dry_run=dry_run,
        summaries={m: files[m].header.summary for m in plan},
        action="rollback",
    )


def rollback(
    url: str,
    *,
    sources: Sequence[Path] | None = None,
    count: int = 1,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
    safety: LiveSafety | None = None,
) -> Report:
    """Roll back the ``count`` most recent migrations (highest ids first), under the lock.

    Refuses a migration without a rollback file (irreversible), one changed since it was
    applied, or one missing on disk. Removes the ledger rows of what it rolled back.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise MigrationError(f"rollback count must be a whole number >= 1, not {count!r}")
    _check_wait(lock_timeout)
    dirs = _source_dirs(sources)
    files = _discover(dirs)
    target = _target(url)
    if dry_run:
        with _connect(target) as conn:
            return _rollback_plan(files, _read_state(conn), count, dry_run=True)
    with _locked(target, lock_timeout) as conn, _yoyo_backend(target) as backend:
        state = _read_state(conn)
        report = _rollback_plan(files, state, count, dry_run=False)
        _ensure_ledger(conn)
        _sync_ledger(conn, files, state)
        _run(backend, conn, report, files, dirs, safety or LiveSafety.from_settings())
    return report


def _state_of(mid: str, files: dict[str, _File], state: _DbState) -> MigrationState:
    f = files.get(mid)
    path = f.path if f else None
    if mid not in state.applied:
        return MigrationState(mid, "pending", None, path)
    row = state.ledger.get(mid)
    applied_at = row.applied_at if row else state.applied[mid]
    if f is None:
        return MigrationState(mid, "missing", applied_at, None)
    drifted = row is not None and row.checksum != f.checksum
    return MigrationState(mid, "drifted" if drifted else "applied", applied_at, path)


def _adopt_if_idle(conn: Conn, files: dict[str, _File], state: _DbState) -> _DbState:
    """Adopt yoyo-applied migrations, unless a run holds the lock (then it will)."""
    if not _to_adopt(files, state) or not _try_lock(conn):
        return state
    try:
        state = _read_state(conn)
        _sync_ledger(conn, files, state)
        return _read_state(conn)
    except psycopg.errors.InsufficientPrivilege as exc:
        logger.warning("status cannot adopt into the ledger: %s", exc)
        return state
    finally:
        _unlock(conn)


def status(url: str, *, sources: Sequence[Path] | None = None) -> list[MigrationState]:
    """Every migration on disk or applied, by id: applied / pending / drifted / missing.

    Migrations applied by plain ``yoyo apply`` are adopted into the ledger (when no
    migrate is running); otherwise nothing is written.
    """
    files = _discover(_source_dirs(sources))
    with _connect(_target(url)) as conn:
        state = _adopt_if_idle(conn, files, _read_state(conn))
    return [_state_of(mid, files, state) for mid in sorted(set(files) | set(state.applied))]
