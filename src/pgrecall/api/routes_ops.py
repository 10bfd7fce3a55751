"""``/v1/runs``, ``/v1/events``, ``/v1/stats``: research / tool runs, analytics events."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from pgrecall.models import ConversationTotals, Event, EventLevel, ModelUsage, Run

from .deps import CtxDep, IdempotencyKey
from .problems import responses
from .schemas import ClaimIn, EventIn, FailIn, Name, RunIn, SucceedIn, WorkerIn

__all__ = ["router"]

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many")]


@router.post("/v1/runs", status_code=201, tags=["runs"], responses=responses(409, body=True))
async def create_run(body: RunIn, ctx: CtxDep, idempotency_key: IdempotencyKey = None) -> Run:
    """Queue a run (research, tool call, LLM job). With `Idempotency-Key` (stored as
    `request_id`) a retry returns the first run."""
    async with ctx.session() as s:
        run = await s.runs.create(request_id=idempotency_key, **body.model_dump(exclude_unset=True))
    return run


@router.get("/v1/runs/{id}", tags=["runs"], responses=responses(404))
async def get_run(id: UUID, ctx: CtxDep) -> Run:
    async with ctx.session() as s:
        run = await s.runs.get(id)
    return run


@router.post(
    "/v1/runs/claim",
    tags=["runs"],
    responses={204: {"description": "No pending run of this kind"}, **responses(body=True)},
)
async def claim_run(body: ClaimIn, ctx: CtxDep, response: Response) -> Run | None:
    """Take the next pending run of `kind` (never the same run for two workers)."""
    async with ctx.session() as s:
        run = await s.runs.claim_next(body.kind, worker_id=body.worker_id)
    if run is None:
        response.status_code = 204
    return run


@router.post("/v1/runs/{id}/heartbeat", tags=["runs"], responses=responses(404, 409, body=True))
async def heartbeat_run(id: UUID, body: WorkerIn, ctx: CtxDep) -> Run:
    """The worker is alive; 409 when the run is no longer its own."""
    async with ctx.session() as s:
        run = await s.runs.heartbeat(id, worker_id=body.worker_id)
    return run


@router.post("/v1/runs/{id}/succeed", tags=["runs"], responses=responses(404, 409, body=True))
async def succeed_run(id: UUID, body: SucceedIn, ctx: CtxDep) -> Run:
    async with ctx.session() as s:
        run = await s.runs.succeed(id, **body.model_dump(exclude_unset=True))
    return run


@router.post("/v1/runs/{id}/fail", tags=["runs"], responses=responses(404, 409, body=True))
async def fail_run(id: UUID, body: FailIn, ctx: CtxDep) -> Run:
    """Record a failure; with `retry` the run is queued again while attempts remain."""
    async with ctx.session() as s:
        run = await s.runs.fail(id, **body.model_dump(exclude_unset=True))
    return run


@router.post("/v1/runs/{id}/cancel", tags=["runs"], responses=responses(404, 409))
async def cancel_run(id: UUID, ctx: CtxDep) -> Run:
    async with ctx.session() as s:
        run = await s.runs.cancel(id)
    return run


@router.post("/v1/events", status_code=201, tags=["events"], responses=responses(body=True))
async def log_event(body: EventIn, ctx: CtxDep) -> Event:
    """Log an analytics event or a log line."""
    async with ctx.session() as s:
        event = await s.events.log(**body.model_dump(exclude_unset=True))
    return event


@router.get("/v1/events", tags=["events"], responses=responses())
async def list_events(
    ctx: CtxDep,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    type: Annotated[Name | None, Query()] = None,
    level: Annotated[list[EventLevel] | None, Query()] = None,
    limit: Limit = 100,
) -> list[Event]:
    """Events in `[since, until)`, newest first (times with a timezone)."""
    async with ctx.session() as s:
        events = await s.events.list(since=since, until=until, type=type, levels=level, limit=limit)
    return events


@router.get("/v1/stats", tags=["stats"], responses=responses())
async def counts(ctx: CtxDep) -> dict[str, int]:
    """This tenant's rows per table."""
    async with ctx.session() as s:
        found = await s.stats.counts()
    return found


@router.get("/v1/stats/conversations", tags=["stats"], responses=responses())
async def conversation_totals(
    ctx: CtxDep, user_id: Annotated[Name | None, Query()] = None, limit: Limit = 100
) -> list[ConversationTotals]:
    """Messages and tokens per conversation, most tokens first."""
    async with ctx.session() as s:
        found = await s.stats.conversation_totals(user_id=user_id, limit=limit)
    return found


@router.get("/v1/stats/models", tags=["stats"], responses=responses())
async def model_usage(ctx: CtxDep) -> list[ModelUsage]:
    """Calls, tokens and latency per model."""
    async with ctx.session() as s:
        found = await s.stats.model_usage()
    return found
