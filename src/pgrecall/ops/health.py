"""Health report: ``store.health()`` and ``pgrecall health`` (JSON). Never raises.

The report says whether the server answers (latency, version, database, host, port,
pgvector), how the pool is doing, and where the migrations stand: a server that does
not answer, or a schema with pending / drifted / missing migrations, is ``unhealthy``
with the reason in ``problems``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict

from ..query.db import DB
from ..query.resources import project_queries
from ..settings import libpq_url, yoyo_url

__all__ = ["HealthReport", "MigrationHealth", "health"]


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MigrationHealth(_Report):
    applied: int = 0
    pending: list[str] = []
    drifted: list[str] = []
    missing: list[str] = []
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


class _Info(_Report):
    server_version: str
    database: str
    pgvector_version: str | None
    in_recovery: bool
    schema_present: bool


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _migrations(url: str) -> MigrationHealth:
    try:
        from .. import migrate as migrations

        states = migrations.status(yoyo_url(url))
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


def health(
    url: str,
    *,
    timeout: float = 5.0,
    pool: dict[str, int] | None = None,
    check_migrations: bool = True,
) -> HealthReport:
    """Check the database at ``url``; never raises (a failure is ``status: unhealthy``)."""
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
        return HealthReport(status="unhealthy", problems=[_reason(exc)], checked_at=now, pool=pool)
    mig = _migrations(dsn) if check_migrations and info.schema_present else None
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
    )
