"""Connections for migrating and the PostgreSQL advisory lock held for a whole run."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.rows import class_row

from ..errors import MigrationError, translate
from ..settings import libpq_url, yoyo_url
from .report import APPLICATION_NAME, CHECK_INTERVAL, LOCK_KEYS

__all__ = ["Conn"]



@dataclass(frozen=True)
class _Target:
    conninfo: str  # libpq URL for pgrecall's own connections
    yoyo_uri: str  # postgresql+psycopg:// URL for yoyo's connections


def _options(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _target(url: str) -> _Target:
    """Normalise any accepted URL; yoyo's connections get the client check interval."""
    parts = urlsplit(libpq_url(url))
    args = dict(parse_qsl(parts.query, keep_blank_values=True))
    args.setdefault("application_name", APPLICATION_NAME)
    schema = args.pop("schema", None)  # a yoyo URL parameter (its search_path)
    options = args.pop("options", "")
    own = dict(args)
    if own_options := _options(options, f"-c search_path={schema}" if schema else ""):
        own["options"] = own_options
    theirs = dict(
        args, options=_options(options, f"-c client_connection_check_interval={CHECK_INTERVAL}")
    )
    if schema:
        theirs["schema"] = schema
    return _Target(
        conninfo=urlunsplit(parts._replace(query=urlencode(own, quote_via=quote))),
        yoyo_uri=yoyo_url(urlunsplit(parts._replace(query=urlencode(theirs, quote_via=quote)))),
    )


Conn = psycopg.Connection[tuple[Any, ...]]


def _connect(target: _Target) -> Conn:
    try:
        return psycopg.connect(target.conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise translate(exc) from exc


def _scalar(conn: Conn, query: LiteralString, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None




@dataclass(frozen=True)
class _Holder:
    pid: int
    application_name: str | None
    usename: str | None
    backend_start: datetime | None
    state: str | None


def _try_lock(conn: Conn) -> bool:
    return bool(_scalar(conn, "SELECT pg_try_advisory_lock(%s::int4, %s::int4)", LOCK_KEYS))


def _unlock(conn: Conn) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s::int4, %s::int4)", LOCK_KEYS)


def _holder(conn: Conn) -> _Holder | None:
    with conn.cursor(row_factory=class_row(_Holder)) as cur:
        cur.execute(
            """
            SELECT l.pid, a.application_name, a.usename::text, a.backend_start, a.state
            FROM pg_locks AS l
            LEFT JOIN pg_stat_activity AS a USING (pid)
            WHERE l.locktype = 'advisory' AND l.granted
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = %s::int4::oid AND l.objid = %s::int4::oid AND l.objsubid = 2
            """,
            LOCK_KEYS,
        )
        return cur.fetchone()


def _lock_timeout_error(conn: Conn, timeout: float) -> MigrationError:
    holder = _holder(conn)
    if holder is None:
        return MigrationError(f"could not take the migration lock within {timeout:g} s")
    since = holder.backend_start.isoformat(timespec="seconds") if holder.backend_start else "?"
    return MigrationError(
        f"could not take the migration lock within {timeout:g} s: held by pid {holder.pid} "
        f"(application {holder.application_name!r}, user {holder.usename}, connected since "
        f"{since}, {holder.state}). Another migrate or rollback is running; if it is stuck, "
        f"end it with: SELECT pg_terminate_backend({holder.pid});"
    )


def _acquire(conn: Conn, timeout: float) -> None:
    """Poll ``pg_try_advisory_lock`` with capped, jittered backoff until ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while not _try_lock(conn):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _lock_timeout_error(conn, timeout)
        time.sleep(min(remaining, delay * random.uniform(0.5, 1.0)))
        delay = min(delay * 2, 1.0)


def _keep_session(conn: Conn) -> None:
    """The lock session idles for the whole run: no idle timeout; keepalives on TCP."""
    conn.execute(
        "SELECT set_config('idle_session_timeout', '0', false),"
        " set_config('tcp_keepalives_idle', '10', false),"
        " set_config('tcp_keepalives_interval', '5', false),"
        " set_config('tcp_keepalives_count', '3', false)"
    )


@contextmanager
def _locked(target: _Target, timeout: float) -> Iterator[Conn]:
    """A connection holding the migration advisory lock (session level) until exit."""
    conn = _connect(target)
    try:
        _keep_session(conn)
        _acquire(conn, timeout)
        yield conn
        _unlock(conn)
    finally:
        conn.close()  # ending the session releases the lock in any case


def _check_lock(conn: Conn, next_id: str) -> None:
    try:
        held = _scalar(
            conn,
            """
            SELECT EXISTS (
                SELECT FROM pg_locks
                WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted
                  AND classid = %s::int4::oid AND objid = %s::int4::oid AND objsubid = 2)
            """,
            LOCK_KEYS,
        )
    except psycopg.Error as exc:
        raise MigrationError(f"lost the migration lock connection before {next_id}") from exc
    if not held:
        raise MigrationError(f"lost the migration lock before {next_id}")


