"""Row models (what queries return) and input validation helpers."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .errors import ValidationError

__all__ = [
    "Conversation",
    "ConversationStatus",
    "Message",
    "Role",
    "RoleCount",
    "User",
    "check_json",
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


MAX_JSON_DEPTH = 64


def check_json(value: Any, what: str, *, _depth: int = 0) -> Any:
    """Reject what jsonb cannot hold: NUL in strings or keys, NaN / infinity, deep nesting."""
    if _depth > MAX_JSON_DEPTH:
        raise ValidationError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"{what} contains a NUL character (jsonb cannot store it)")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{what} is not valid UTF-8 (lone surrogate?)") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{what} contains {value} (not valid JSON)")
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"{what} has a non-text key {k!r}")
            check_json(k, what, _depth=_depth + 1)
            check_json(v, what, _depth=_depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            check_json(v, what, _depth=_depth + 1)
    elif value is not None and not isinstance(value, (bool, int, float)):
        raise ValidationError(f"{what} holds a {type(value).__name__}, not JSON")
    return value


def check_object(value: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """A JSON object (dict), validated; ``None`` becomes ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a JSON object (dict), not {type(value).__name__}")
    check_json(value, what)
    return value
