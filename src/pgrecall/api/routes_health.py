"""``/healthz`` and ``/readyz``: probes for load balancers and orchestrators (no key)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .deps import state_of
from .problems import responses

__all__ = ["Health", "router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Liveness of the service and its database (no host, user or error text)."""

    status: Literal["healthy", "unhealthy"]
    checked_at: datetime
    latency_ms: float | None
    in_recovery: bool | None


@router.get("/healthz", responses={503: {"model": Health}, **responses(auth=False)})
async def healthz(request: Request) -> JSONResponse:
    """Liveness: the database answers (no authentication; no secrets)."""
    report = await state_of(request).store.health(check_migrations=False)
    body = Health(
        status=report.status,
        checked_at=report.checked_at,
        latency_ms=report.latency_ms,
        in_recovery=report.in_recovery,
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=200 if report.status == "healthy" else 503
    )


@router.get("/readyz", responses=responses(auth=False))
async def readyz(request: Request) -> dict[str, str]:
    """Readiness: a pooled connection runs a statement (503 when not)."""
    async with state_of(request).store.connection() as db:
        await db.conn.execute("SELECT 1")
    return {"status": "ready"}
