"""Row models of the operations areas: runs, events, cache, personas, modules, states,
domain sets and stats (issue 5)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from .core import Row

__all__ = [
    "EVENT_LEVELS",
    "EXECUTION_CONTEXTS",
    "RUN_STATUSES",
    "CacheEntry",
    "CacheStats",
    "ConversationState",
    "ConversationTotals",
    "DomainSet",
    "Event",
    "EventLevel",
    "EventPartition",
    "EventsPerDay",
    "ExecutionContext",
    "ModelUsage",
    "Module",
    "NewEvent",
    "PartitionName",
    "Persona",
    "PersonaModule",
    "Run",
    "RunOutcome",
    "RunStatus",
    "TableCount",
]

RunStatus = Literal["pending", "running", "succeeded", "failed", "cancelled"]
RUN_STATUSES: frozenset[str] = frozenset(("pending", "running", "succeeded", "failed", "cancelled"))
EventLevel = Literal["debug", "info", "warning", "error", "critical"]
EVENT_LEVELS: frozenset[str] = frozenset(("debug", "info", "warning", "error", "critical"))
ExecutionContext = Literal["immediate", "post_response", "on_demand"]
EXECUTION_CONTEXTS: frozenset[str] = frozenset(("immediate", "post_response", "on_demand"))


class Run(Row):
    tenant_id: str
    id: UUID
    kind: str
    status: RunStatus
    priority: int
    input: Any
    output: Any
    error: str | None
    provider: str | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost: Decimal | None
    request_id: str | None
    trace_id: str | None
    conversation_id: UUID | None
    user_id: str | None
    metadata: dict[str, Any]
    worker_id: str | None
    attempts: int
    max_attempts: int
    available_at: datetime
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    duration_ms: int | None


class Event(Row):
    tenant_id: str
    id: UUID
    occurred_at: datetime
    type: str
    service: str | None
    level: EventLevel
    message: str | None
    details: dict[str, Any]
    request_id: str | None
    conversation_id: UUID | None
    user_id: str | None
    run_id: UUID | None
    duration_ms: int | None


class NewEvent(BaseModel):
    """One event for :meth:`AsyncEvents.log_many` (batch logging through COPY)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    service: str | None = None
    level: EventLevel = "info"
    message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None
    conversation_id: UUID | None = None
    user_id: str | None = None
    run_id: UUID | None = None
    duration_ms: int | None = None
    occurred_at: datetime | None = None


class EventPartition(Row):
    name: str
    day: date | None
    row_count: int


class PartitionName(Row):
    name: str


class CacheEntry(Row):
    tenant_id: str
    key: str
    value: Any
    expires_at: datetime | None
    hits: int
    last_hit_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CacheStats(Row):
    entries: int
    expired: int
    hits: int
    bytes: int


class Persona(Row):
    tenant_id: str
    id: UUID
    name: str
    description: str
    template: str
    mode: str | None
    loop_frequency: str | None
    first_message: str | None
    image_path: str | None
    active: bool
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class Module(Row):
    tenant_id: str
    id: UUID
    name: str
    description: str
    content: str | None
    type: str
    trigger_pattern: str | None
    script: str | None
    execution_context: ExecutionContext
    requires_ai_inference: bool
    stage_priority: int
    active: bool
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class PersonaModule(Module):
    """A module as a persona uses it: with its ``position`` in the persona."""

    position: int


class ConversationState(Row):
    tenant_id: str
    id: UUID
    conversation_id: UUID
    persona_id: UUID | None
    module_id: UUID | None
    key: str
    value: Any
    created_at: datetime
    updated_at: datetime


class DomainSet(Row):
    tenant_id: str
    id: UUID
    name: str
    description: str
    domains: list[str]
    metadata: dict[str, Any]
    active: bool
    created_at: datetime
    updated_at: datetime


class TableCount(Row):
    table_name: str
    row_count: int


class ConversationTotals(Row):
    conversation_id: UUID
    messages: int
    user_messages: int
    assistant_messages: int
    tokens: int
    input_tokens: int
    output_tokens: int
    first_at: datetime | None
    last_at: datetime | None


class ModelUsage(Row):
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class EventsPerDay(Row):
    day: date
    type: str
    events: int


class RunOutcome(Row):
    kind: str
    status: RunStatus
    runs: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    duration_p50_ms: float | None
    duration_p95_ms: float | None
