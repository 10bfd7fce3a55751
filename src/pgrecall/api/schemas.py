"""Request bodies and shared types of the HTTP API.

Responses are pgrecall's row models themselves (``pgrecall.models``). Requests are thin
models whose field types are the row models' types (``Role``, ``MemoryKind``, ...) with the
limits of pgrecall's validators written into the schema, so the OpenAPI says what the
service accepts: text without NUL, the same maximum lengths, JSON without NUL.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from typing_extensions import TypeAliasType

from pgrecall.models import EventLevel, MemoryKind, Role, TextConfig

from .filters import Filter
from .problems import ProblemError

__all__ = [
    "KEY_PATTERN",
    "AnalysisIn",
    "ClaimIn",
    "ContextIn",
    "ConversationIn",
    "ConversationPatch",
    "Cursor",
    "DocumentIn",
    "DocumentPatch",
    "EmbeddingIn",
    "EmbeddingModelIn",
    "EventIn",
    "FailIn",
    "HybridSearchIn",
    "Json",
    "JsonObject",
    "MemoryIn",
    "MessageIn",
    "Page",
    "RecallIn",
    "RunIn",
    "SucceedIn",
    "TextSearchIn",
    "VectorIn",
    "VectorSearchIn",
    "WorkerIn",
    "bad_cursor",
    "decode_cursor",
    "encode_cursor",
]

NO_NUL = r"^[^\x00]*$"
MAX_INT = 2**31 - 1


def _json_number(value: Any) -> Any:
    """Numbers as JSON has them: no "5" strings and no booleans (pydantic's lax mode would
    take both, which the schema does not allow); 5.0 is JSON Schema's integer 5."""
    if isinstance(value, str | bool):
        raise ValueError("expected a JSON number")
    return value


def _json_bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _json_time(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date-time string")
    return value


# Request body numbers, booleans and times that take only what their JSON Schema type
# says (the constraints come before the check, so they stay minimum / maximum in the schema).
_NUMBER = BeforeValidator(_json_number)
Float = Annotated[float, _NUMBER]
Bool = Annotated[bool, BeforeValidator(_json_bool)]
Time = Annotated[AwareDatetime, BeforeValidator(_json_time)]
Count = Annotated[int, Field(ge=0, le=MAX_INT), _NUMBER]
K = Annotated[int, Field(ge=1, le=1000), _NUMBER]
MaxMessages = Annotated[int, Field(ge=1, le=100_000), _NUMBER]
Priority = Annotated[int, Field(ge=-32768, le=32767), _NUMBER]
Attempts = Annotated[int, Field(ge=1, le=1000), _NUMBER]
Size = Annotated[int, Field(ge=0, lt=2**63), _NUMBER]
Dimensions = Annotated[int, Field(ge=1, le=16_000), _NUMBER]
Delay = Annotated[float, Field(ge=0, le=86_400 * 365), _NUMBER]
Weight = Annotated[float, Field(ge=0, le=1e6), _NUMBER]
Unit = Annotated[float, Field(ge=0, le=1), _NUMBER]


def _text(max_len: int, min_len: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_len, max_length=max_len, pattern=NO_NUL)


# Text as pgrecall stores it: no NUL, and the validators' maximum lengths.
# An identifier (user id, kind, event type, model, worker, request id): not empty and not
# only whitespace (as pgrecall's check_key; \x1c-\x1f count as whitespace in Python).
KEY_PATTERN = r"^[^\x00]*[^\x00\s\x1c-\x1f][^\x00]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=KEY_PATTERN)]
Short = Annotated[str, _text(200)]
Title = Annotated[str, _text(1000)]
LongText = Annotated[str, _text(100_000)]
Content = Annotated[str, _text(1_000_000)]
Key = Annotated[str, _text(1000)]
JsonText = Annotated[str, StringConstraints(pattern=NO_NUL)]
Json = TypeAliasType(
    "Json",
    "JsonText | int | float | bool | list[Json] | dict[Key, Json] | None",
)
JsonObject = dict[Key, Json]
Vector = Annotated[list[Float], Field(min_length=1, max_length=16_000)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next (null: the end)."""

    items: list[T]
    next_cursor: str | None


class Cursor(BaseModel):
    """The position after the last item of a page (opaque to clients)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime | None = None
    id: UUID | None = None
    seq: int | None = None


def encode_cursor(cursor: Cursor) -> str:
    raw = cursor.model_dump_json(exclude_none=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor() -> ProblemError:
    return ProblemError(400, "cursor is not one this service returned")


def decode_cursor(value: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return Cursor.model_validate(json.loads(raw))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc


# -- request bodies ----------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VectorIn(_Body):
    """An embedding and the model that made it (declared with its dimension)."""

    model: Name
    vector: Vector


class ConversationIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"user_id": "u1", "title": "Research", "metadata": {"channel": "web"}}]
        },
    )

    user_id: Name
    title: Title = ""
    persona_id: UUID | None = None
    llm_config: JsonObject | None = None
    metadata: JsonObject | None = None


class ConversationPatch(_Body):
    title: Title


class MessageIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "user", "content": "What is pgvector?", "token_count": 6}]
        },
    )

    role: Role
    content: Content
    thinking: Content | None = None
    metadata: JsonObject | None = None
    token_count: Count | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    model: Short | None = None
    latency_ms: Count | None = None
    source: Short | None = None


class ContextIn(_Body):
    """The context window with the memories relevant to ``embedding``."""

    max_tokens: Count
    max_messages: MaxMessages = 1000
    embedding: VectorIn | None = None
    k: K = 5
    user_id: Name | None = None
    kinds: Annotated[list[MemoryKind], Field(min_length=1)] | None = None


class RunIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"kind": "research", "input": {"query": "pgvector"}, "priority": 5}]
        },
    )

    kind: Name
    input: Json = None
    priority: Priority = 0
    provider: Short | None = None
    model: Short | None = None
    trace_id: Short | None = None
    conversation_id: UUID | None = None
    user_id: Name | None = None
    metadata: JsonObject | None = None
    max_attempts: Attempts = 3


class ClaimIn(_Body):
    kind: Name
    worker_id: Name | None = None


class WorkerIn(_Body):
    worker_id: Name | None = None


class SucceedIn(_Body):
    output: Json = None
    worker_id: Name | None = None
    provider: Short | None = None
    model: Short | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    trace_id: Short | None = None


class FailIn(_Body):
    error: LongText
    worker_id: Name | None = None
    retry: Bool = False
    retry_delay: Delay = 0.0
    output: Json = None


class EventIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"type": "message.sent", "service": "api", "details": {"chars": 17}}]
        },
    )

    type: Name
    message: LongText | None = None
    level: EventLevel = "info"
    service: Short | None = None
    details: JsonObject | None = None
    request_id: Name | None = None
    conversation_id: UUID | None = None
    user_id: Name | None = None
    run_id: UUID | None = None
    duration_ms: Count | None = None


class DocumentIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "filename": "notes.pdf",
                    "title": "pgvector notes",
                    "mime_type": "application/pdf",
                    "storage_uri": "s3://bucket/notes.pdf",
                }
            ]
        },
    )

    filename: Annotated[str, _text(1000, 1)]
    title: Title = ""
    original_filename: Annotated[str, _text(1000)] | None = None
    storage_uri: Annotated[str, _text(10_000)] | None = None
    size_bytes: Size | None = None
    mime_type: Short | None = None
    sha256: Sha256 | None = None
    source: Short | None = None
    conversation_id: UUID | None = None
    run_id: UUID | None = None
    metadata: JsonObject | None = None


class DocumentPatch(_Body):
    title: Title | None = None
    source: Short | None = None
    metadata_patch: JsonObject | None = None


class AnalysisIn(_Body):
    category: Short | None = None
    summary: Content | None = None
    tags: Annotated[list[Short], Field(max_length=200)] = []
    raw_response: Json = None
    provider: Short | None = None
    model: Short | None = None
    trace_id: Short | None = None


class EmbeddingModelIn(_Body):
    name: Name
    dimensions: Dimensions
    description: Annotated[str, _text(10_000)] | None = None


class EmbeddingIn(_Body):
    content: Content
    embedding: Vector
    model: Name
    document_id: UUID | None = None
    chunk_index: Count = 0
    source: JsonObject | None = None


class _Filters(_Body):
    conversation_id: UUID | None = None
    document_ids: Annotated[list[UUID], Field(max_length=1000)] | None = None
    document_metadata: JsonObject | None = None
    source: JsonObject | None = None
    filter: Filter | None = None  # on the chunk's source
    document_filter: Filter | None = None  # on its document's metadata


class TextSearchIn(_Body):
    q: Annotated[str, _text(10_000)]
    k: K = 10
    config: TextConfig = "english"
    conversation_id: UUID | None = None
    metadata: JsonObject | None = None
    filter: Filter | None = None


class VectorSearchIn(_Filters):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"embedding": [0.1, 0.2, 0.3], "model": "m3", "k": 5, "filter": {"lang": "en"}}
            ]
        },
    )

    embedding: Vector
    model: Name
    k: K = 10


class HybridSearchIn(_Filters):
    text: Annotated[str, _text(10_000)]
    embedding: Vector
    model: Name
    k: K = 10
    config: TextConfig = "english"
    text_weight: Weight = 1.0
    vector_weight: Weight = 1.0


class MemoryIn(_Body):
    content: Annotated[str, _text(100_000, 1)]
    kind: MemoryKind = "fact"
    importance: Unit = 0.5
    user_id: Name | None = None
    conversation_id: UUID | None = None
    embedding: VectorIn | None = None
    metadata: JsonObject | None = None
    expires_at: Time | None = None


class RecallIn(_Body):
    embedding: Vector
    model: Name
    k: K = 5
    user_id: Name | None = None
    conversation_id: UUID | None = None
    kinds: Annotated[list[MemoryKind], Field(min_length=1)] | None = None
