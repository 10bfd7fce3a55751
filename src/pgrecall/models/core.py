"""Row models (what queries return) and input validation helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Conversation",
    "ConversationStatus",
    "Message",
    "Role",
    "RoleCount",
    "Row",
    "User",
]

Role = Literal["system", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset(("system", "user", "assistant", "tool"))
ConversationStatus = Literal["active", "archived", "closed", "deleted"]
STATUSES: frozenset[str] = frozenset(("active", "archived", "closed", "deleted"))


class Row(BaseModel):
    """Base of every row model: immutable, unknown columns are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class User(Row):
    tenant_id: str
    user_id: str
    username: str | None
    email: str | None
    display_name: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class Conversation(Row):
    tenant_id: str
    id: UUID
    user_id: str
    title: str
    status: ConversationStatus
    persona_id: UUID | None
    llm_config: dict[str, Any]
    metadata: dict[str, Any]
    message_count: int
    last_message_at: datetime | None
    activity_at: datetime
    archived_at: datetime | None
    closed_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Message(Row):
    tenant_id: str
    id: UUID
    conversation_id: UUID
    seq: int
    role: Role
    content: str
    thinking: str | None
    metadata: dict[str, Any]
    token_count: int
    input_tokens: int | None
    output_tokens: int | None
    model: str | None
    latency_ms: int | None
    request_id: str | None
    source: str | None
    created_at: datetime


class RoleCount(Row):
    role: Role
    count: int


