"""Row models of the knowledge tables: documents, analyses, embeddings, memories, search hits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict

from .core import Message, Row

__all__ = [
    "MEMORY_KINDS",
    "Analysis",
    "ChatTurn",
    "Chunk",
    "ChunkHit",
    "Document",
    "DocumentHit",
    "Embedding",
    "EmbeddingModel",
    "HybridHit",
    "Memory",
    "MemoryContext",
    "MemoryKind",
    "RecalledMemory",
    "TextConfig",
    "VectorHit",
]

MemoryKind = Literal["episodic", "semantic", "preference", "fact", "procedural"]
MEMORY_KINDS: frozenset[str] = frozenset(
    ("episodic", "semantic", "preference", "fact", "procedural")
)
TextConfig = Literal["english", "simple"]


def _floats(value: Any) -> Any:
    """pgvector's ``Vector`` (or a numpy array) as a plain list of floats."""
    to_list = getattr(value, "to_list", None) or getattr(value, "tolist", None)
    return to_list() if callable(to_list) else value


Floats = Annotated[list[float], BeforeValidator(_floats)]


class EmbeddingModel(Row):
    tenant_id: str
    name: str
    dimensions: int
    description: str | None
    created_at: datetime


class Document(Row):
    tenant_id: str
    id: UUID
    filename: str
    original_filename: str | None
    storage_uri: str | None
    size_bytes: int | None
    mime_type: str | None
    sha256: str | None
    title: str
    source: str | None
    conversation_id: UUID | None
    run_id: UUID | None
    metadata: dict[str, Any]
    analysis_version: int
    created_at: datetime
    updated_at: datetime


class Analysis(Row):
    tenant_id: str
    id: UUID
    document_id: UUID
    version: int
    category: str | None
    summary: str | None
    tags: list[str]
    raw_response: Any
    provider: str | None
    model: str | None
    trace_id: str | None
    created_at: datetime


class Embedding(Row):
    """A stored chunk with its vector."""

    tenant_id: str
    id: UUID
    document_id: UUID | None
    analysis_id: UUID | None
    memory_id: UUID | None
    chunk_index: int
    content: str
    embedding: Floats
    model: str
    dimensions: int
    source: dict[str, Any]
    created_at: datetime


class Chunk(Row):
    """The fields every chunk hit carries (no vector)."""

    id: UUID
    document_id: UUID | None
    analysis_id: UUID | None
    memory_id: UUID | None
    chunk_index: int
    content: str
    model: str
    source: dict[str, Any]


class ChunkHit(Chunk):
    """A keyword match: ``rank`` is ``ts_rank``; ``snippet`` highlights with ``<b>``."""

    rank: float
    snippet: str


class VectorHit(Chunk):
    """A nearest neighbour: cosine ``distance`` (0..2) and ``similarity`` = 1 - distance."""

    distance: float
    similarity: float


class HybridHit(Chunk):
    """A fused hit: RRF ``score``; 1-based ranks in each list (``None`` = not in it)."""

    score: float
    text_rank: int | None
    vector_rank: int | None
    distance: float
    snippet: str


class DocumentHit(Row):
    """A document matching a text search, with its latest analysis' category and tags."""

    document_id: UUID
    title: str
    filename: str
    mime_type: str | None
    metadata: dict[str, Any]
    category: str | None
    tags: list[str]
    rank: float
    snippet: str


class Memory(Row):
    tenant_id: str
    id: UUID
    user_id: str | None
    conversation_id: UUID | None
    persona_id: UUID | None
    message_id: UUID | None
    kind: MemoryKind
    content: str
    importance: float
    model: str | None
    dimensions: int | None
    metadata: dict[str, Any]
    access_count: int
    last_accessed_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RecalledMemory(Memory):
    """A recalled memory (already counted as accessed) and how it scored."""

    score: float
    relevance: float
    recency: float
    distance: float


class MemoryContext(BaseModel):
    """What to send to the model: the message window and the relevant memories."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: list[Message]
    memories: list[RecalledMemory]


class ChatTurn(BaseModel):
    """One chat request (``store.chat_turn``): the stored message, the context window
    that includes it, and the recalled memories (empty unless asked for)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message: Message
    context: list[Message]
    memories: list[RecalledMemory] = []
