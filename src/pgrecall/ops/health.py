"""Health report: ``store.health()`` and ``pgrecall health`` (JSON). Never raises.

The report says whether the server answers (latency, version, database, host, port,
pgvector), how the pool is doing, and where the migrations stand: a server that does
not answer, or a schema with pending / drifted / missing migrations, is ``unhealthy``
with the reason in ``problems``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict

from ..query.db import DB
from ..query.resources import project_queries
from ..settings import libpq_url, yoyo_url

__all__ = ["HealthReport", "MigrationHealth", "ReplicaHealth", "health", "replica_health"]


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MigrationHealth(_Report):
    applied: int = 0
    pending: list[str] = []
    drifted: list[str] = []
    missing: list[str] = []
    error: str | None = None


class ReplicaHealth(_Report):
    """One read replica: ``ok`` (a standby within the lag limit), ``lagging`` or ``down``."""

    name: str
    status: Literal["ok", "lagging", "down"]
    lag_seconds: float | None = None
    error: str | None = None


class HealthReport(_Report):
    status: Literal["healthy", "unhealthy"]
    problems: list[str] = []
    checked_at: datetime
    latency_ms: float | None = None
    server_version: str | None = None
    database: str | None = None
    host: str | None = None
    port: int | None = None
    in_recovery: bool | None = None
    pgvector_version: str | None = None
    pool: dict[str, int] | None = None
    migrations: MigrationHealth | None = None
    replicas: list[ReplicaHealth] | None = None


class _Info(_Report):
    server_version: str
    database: str
    pgvector_version: str | None
    in_recovery: bool
    schema_present: bool


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _migrations(url: str, sources: Sequence[Path] | None = None) -> MigrationHealth:
    try:
        from .. import migrate as migrations

        states = migrations.status(yoyo_url(url), sources=sources)
    except Exception as exc:  # a report, not a failure: the reason goes into it
        return MigrationHealth(error=_reason(exc))
    by: dict[str, list[str]] = {"applied": [], "pending": [], "drifted": [], "missing": []}
    for s in states:
        by.setdefault(s.state, []).append(s.id)
    return MigrationHealth(
        applied=len(by["applied"]),
        pending=by["pending"],
        drifted=by["drifted"],
        missing=by["missing"],
    )


def _problems(info: _Info, mig: MigrationHealth | None) -> list[str]:
    problems = [] if info.schema_present else ["schema pgrecall does not exist: run migrations"]
    if mig is not None:
        if mig.error:
            problems.append(f"migration status unknown: {mig.error}")
        for what in ("pending", "drifted", "missing"):
            ids: list[str] = getattr(mig, what)
            if ids:
                problems.append(f"{len(ids)} {what} migration(s): {', '.join(ids)}")
    return problems


_REPLICA_LAG = """
SELECT pg_is_in_recovery(),
       CASE
           WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
           ELSE coalesce(
               extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
       END::float8
"""


def replica_health(name: str, url: str, *, max_lag: float, timeout: float = 5.0) -> ReplicaHealth:
    """How far behind the replica at ``url`` is; never raises."""
    try:
        with psycopg.connect(
            libpq_url(url), connect_timeout=max(1, round(timeout)), autocommit=True,
            application_name="pgrecall-health",
        ) as conn:
            row = conn.execute(_REPLICA_LAG).fetchone()
    except Exception as exc:  # a report, not a failure
        return ReplicaHealth(name=name, status="down", error=_reason(exc))
    standby, lag = row if row is not None else (False, None)
    if not standby:
        return ReplicaHealth(name=name, status="down", error="not a standby (promoted?)")
    status: Literal["ok", "lagging"] = "ok" if lag is not None and lag <= max_lag else "lagging"
    return ReplicaHealth(name=name, status=status, lag_seconds=round(float(lag), 3))


def health(
    url: str,
    *,
    timeout: float = 5.0,
    pool: dict[str, int] | None = None,
    check_migrations: bool = True,
    replicas: list[ReplicaHealth] | None = None,
    sources: Sequence[Path] | None = None,
) -> HealthReport:
    """Check the database at ``url``; never raises (a failure is ``status: unhealthy``).

    ``sources``: the migration directories the project migrates with (as given to
    ``migrate``; default pgrecall's own), so its own migrations are not "missing".
    """
    now = datetime.now(UTC)
    try:
        dsn = libpq_url(url)
        options = f"-c statement_timeout={int(timeout * 1000)}"
        with psycopg.connect(
            dsn,
            connect_timeout=max(1, round(timeout)),
            options=options,
            autocommit=True,
            application_name="pgrecall-health",
        ) as conn:
            start = time.perf_counter()
            info = DB(conn).get(project_queries().health_info, _Info)
            latency = (time.perf_counter() - start) * 1000
            host, port = conn.info.host, conn.info.port
    except Exception as exc:  # never raises: the reason is the report
        return HealthReport(
            status="unhealthy", problems=[_reason(exc)], checked_at=now, pool=pool,
            replicas=replicas,
        )
    mig = _migrations(dsn, sources) if check_migrations and info.schema_present else None
    problems = _problems(info, mig)
    return HealthReport(
        status="unhealthy" if problems else "healthy",
        problems=problems,
        checked_at=now,
        latency_ms=round(latency, 3),
        server_version=info.server_version,
        database=info.database,
        host=host,
        port=port,
        in_recovery=info.in_recovery,
        pgvector_version=info.pgvector_version,
        pool=pool,
        migrations=mig,
        replicas=replicas,
    )
