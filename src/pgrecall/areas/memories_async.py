"""``s.memories``: long-term memories, recall by relevance + importance + recency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ..errors import ValidationError
from ..models.core import Message
from ..models.knowledge import MEMORY_KINDS, Memory, MemoryContext, MemoryKind, RecalledMemory
from ..query.named import Query
from .embeddings_async import AsyncVectorArea, for_dimensions
from .search_async import DEFAULT_EF_SEARCH, DEFAULT_MAX_SCAN_TUPLES
from .users_async import check_user_id
from .validate import (
    MAX_INT,
    as_uuid,
    check_after,
    check_aware,
    check_choice,
    check_limit,
    check_number,
    check_seq,
    check_text,
    jsonb,
    opt_uuid,
)
from .vectors import VectorLike, check_unit, check_vector

__all__ = ["DEFAULT_HALF_LIFE", "AsyncMemories"]

MAX_MEMORY = 100_000  # characters
DEFAULT_HALF_LIFE = timedelta(days=7)


def _kind(kind: str) -> str:
    check_choice(kind, MEMORY_KINDS, "kind")
    return kind


def _kinds(kinds: Sequence[MemoryKind] | None) -> list[str] | None:
    if kinds is None:
        return None
    found = [check_choice(k, MEMORY_KINDS, "kinds") for k in check_seq(kinds, "kinds")]
    if not found:
        raise ValidationError("kinds must be a non-empty sequence of memory kinds")
    return found


def _content(content: str) -> str:
    if not isinstance(content, str) or not content:
        raise ValidationError("content must be non-empty text")
    return check_text(content, "content", max_len=MAX_MEMORY)


def _opt_user(user_id: str | None) -> str | None:
    return None if user_id is None else check_user_id(user_id)


def _seconds(value: timedelta, what: str) -> float:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(f"{what} must be a positive timedelta")
    return value.total_seconds()


class AsyncMemories(AsyncVectorArea):
    async def add(
        self,
        content: str,
        *,
        kind: MemoryKind = "fact",
        importance: float = 0.5,
        user_id: str | None = None,
        conversation_id: UUID | str | None = None,
        persona_id: UUID | str | None = None,
        message_id: UUID | str | None = None,
        embedding: VectorLike | None = None,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
        expires_at: datetime | None = None,
    ) -> Memory:
        """Store a memory (the user row is created on first use).

        ``embedding`` (with its ``model``) makes it recallable by similarity; it is
        checked against the model's declared dimension before anything is sent.
        """
        vector, dims = await self._optional_vector(embedding, model)
        mem = await self.db.one(
            self.q.add_memory,
            Memory,
            tenant_id=self.t,
            user_id=_opt_user(user_id),
            conversation_id=opt_uuid(conversation_id, "conversation_id"),
            persona_id=opt_uuid(persona_id, "persona_id"),
            message_id=opt_uuid(message_id, "message_id"),
            kind=_kind(kind),
            content=_content(content),
            importance=check_unit(importance, "importance"),
            embedding=vector,
            model=model if vector is not None else None,
            dimensions=dims,
            metadata=jsonb(metadata, "metadata"),
            expires_at=check_aware(expires_at, "expires_at"),
        )
        assert mem is not None  # INSERT ... RETURNING always returns the row
        return mem

    async def _optional_vector(
        self, embedding: VectorLike | None, model: str | None
    ) -> tuple[Any, int | None]:
        if embedding is None and model is None:
            return None, None
        if embedding is None or model is None:
            raise ValidationError("embedding and model go together")
        return await self.vector_for(embedding, model, "embedding")

    async def get(self, id: UUID | str) -> Memory:
        return await self.db.get(self.q.get_memory, Memory, tenant_id=self.t, id=as_uuid(id))

    async def update(
        self,
        id: UUID | str,
        *,
        content: str | None = None,
        kind: MemoryKind | None = None,
        importance: float | None = None,
        expires_at: datetime | None = None,
        metadata_patch: dict[str, Any] | None = None,
        embedding: VectorLike | None = None,
        model: str | None = None,
    ) -> Memory:
        """Change fields (``None`` keeps); a new ``embedding`` comes with its ``model``."""
        vector, dims = await self._optional_vector(embedding, model)
        return await self.db.get(
            self.q.update_memory,
            Memory,
            tenant_id=self.t,
            id=as_uuid(id),
            content=None if content is None else _content(content),
            kind=None if kind is None else _kind(kind),
            importance=None if importance is None else check_unit(importance, "importance"),
            expires_at=check_aware(expires_at, "expires_at"),
            metadata_patch=None if metadata_patch is None else jsonb(metadata_patch, "metadata"),
            embedding=vector,
            model=model if vector is not None else None,
            dimensions=dims,
        )

    async def recall(
        self,
        embedding: VectorLike,
        k: int = 5,
        *,
        model: str,
        user_id: str | None = None,
        conversation_id: UUID | str | None = None,
        persona_id: UUID | str | None = None,
        kinds: Sequence[MemoryKind] | None = None,
        relevance_weight: float = 1.0,
        importance_weight: float = 0.5,
        recency_weight: float = 0.5,
        half_life: timedelta = DEFAULT_HALF_LIFE,
        candidates: int | None = None,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> list[RecalledMemory]:
        """The ``k`` memories to give the model, best first, counted as accessed.

        Score (computed in SQL) = ``relevance_weight`` x cosine similarity +
        ``importance_weight`` x importance + ``recency_weight`` x 0.5 ^ (age /
        ``half_life``), age counted from the last access (else creation). The
        ``candidates`` nearest memories (default ``max(4 * k, 40)``) are rescored;
        expired memories are never recalled. The returned memories get
        ``access_count + 1`` and ``last_accessed_at = now()`` in the same statement.
        """
        filters = dict(
            user_id=_opt_user(user_id),
            user_of_conversation=None,
            conversation_id=opt_uuid(conversation_id, "conversation_id"),
            persona_id=opt_uuid(persona_id, "persona_id"),
            kinds=_kinds(kinds),
        )
        weights = (relevance_weight, importance_weight, recency_weight)
        step = await self._recall_step(embedding, k, model, filters, weights, half_life, candidates)
        (found,) = await self.search_pipeline(
            [step], ef_search=ef_search, max_scan_tuples=DEFAULT_MAX_SCAN_TUPLES
        )
        return found

    async def _recall_step(
        self,
        embedding: VectorLike,
        k: int,
        model: str,
        filters: dict[str, Any],
        weights: tuple[float, float, float],
        half_life: timedelta,
        candidates: int | None,
    ) -> tuple[Query, type[RecalledMemory], dict[str, Any]]:
        dims = await self.dimensions_of(model)
        vector = check_vector(embedding, dims, "embedding")
        k = check_limit(k, 1000)
        names = ("relevance_weight", "importance_weight", "recency_weight")
        w_relevance, w_importance, w_recency = (
            check_unit(w, name, maximum=1e6) for w, name in zip(weights, names, strict=True)
        )
        params = dict(
            tenant_id=self.t,
            embedding=vector,
            model=model,
            **filters,
            w_relevance=w_relevance,
            w_importance=w_importance,
            w_recency=w_recency,
            half_life_seconds=_seconds(half_life, "half_life"),
            candidates=max(4 * k, 40)
            if candidates is None
            else check_limit(candidates, 10_000, "candidates"),
            k=k,
        )
        return for_dimensions(self.q.recall_memories, dims), RecalledMemory, params

    async def context(
        self,
        conversation_id: UUID | str,
        *,
        max_tokens: int,
        max_messages: int = 1000,
        embedding: VectorLike | None = None,
        model: str | None = None,
        k: int = 5,
        user_id: str | None = None,
        kinds: Sequence[MemoryKind] | None = None,
        half_life: timedelta = DEFAULT_HALF_LIFE,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> MemoryContext:
        """The conversation's token-budgeted message window (as ``s.messages.context``)
        plus the ``k`` memories most relevant to ``embedding`` — in one round trip.

        Memories are those of ``user_id``, by default the conversation's own user
        (from any of their conversations); without ``embedding`` none are recalled.
        """
        cid = as_uuid(conversation_id, "conversation_id")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise ValidationError("max_tokens must be an integer")
        if not 0 <= max_tokens <= MAX_INT:
            raise ValidationError(f"max_tokens must be between 0 and {MAX_INT}")
        window = dict(
            tenant_id=self.t,
            conversation_id=cid,
            max_tokens=max_tokens,
            max_messages=check_limit(max_messages, 100_000),
        )
        if embedding is None and model is None:
            messages = await self.db.many(self.q.context_window, Message, **window)
            return MemoryContext(messages=messages, memories=[])
        if embedding is None or model is None:
            raise ValidationError("embedding and model go together")
        filters = dict(
            user_id=_opt_user(user_id),
            user_of_conversation=cid if user_id is None else None,
            conversation_id=None,
            persona_id=None,
            kinds=_kinds(kinds),
        )
        recall = await self._recall_step(
            embedding, k, model, filters, (1.0, 0.5, 0.5), half_life, None
        )
        messages, memories = await self.search_pipeline(
            [(self.q.context_window, Message, window), recall],
            ef_search=ef_search,
            max_scan_tuples=DEFAULT_MAX_SCAN_TUPLES,
        )
        return MemoryContext(messages=messages, memories=memories)

    async def forget(self, id: UUID | str) -> bool:
        """Delete a memory (and its chunks); ``False`` if absent."""
        return await self.db.execute(self.q.forget_memory, tenant_id=self.t, id=as_uuid(id)) > 0

    async def forget_user(self, user_id: str) -> int:
        """Delete every memory of a user; returns how many."""
        return await self.db.execute(
            self.q.forget_user_memories, tenant_id=self.t, user_id=check_user_id(user_id)
        )

    async def decay(
        self,
        *,
        factor: float = 0.9,
        idle: timedelta = timedelta(days=7),
        user_id: str | None = None,
    ) -> int:
        """Decay sweep: importance x ``factor`` for memories not accessed for ``idle``.

        Run it periodically; returns how many memories decayed.
        """
        factor = check_number(factor, "factor", minimum=0.0, maximum=1.0)
        return await self.db.execute(
            self.q.decay_memories,
            tenant_id=self.t,
            factor=float(factor),
            idle_seconds=_seconds(idle, "idle"),
            user_id=_opt_user(user_id),
        )

    async def prune(self, *, below: float, user_id: str | None = None) -> int:
        """Forget the memories whose importance is below ``below``; returns how many."""
        return await self.db.execute(
            self.q.prune_memories,
            tenant_id=self.t,
            below=check_unit(below, "below"),
            user_id=_opt_user(user_id),
        )

    async def purge_expired(self) -> int:
        """Delete the memories past their ``expires_at``; returns how many."""
        return await self.db.execute(self.q.purge_expired_memories, tenant_id=self.t)

    async def list(
        self,
        *,
        user_id: str | None = None,
        conversation_id: UUID | str | None = None,
        kinds: Sequence[MemoryKind] | None = None,
        limit: int = 50,
        after: Memory | None = None,
    ) -> list[Memory]:
        """Memories newest first (expired ones included); ``after`` pages on."""
        after = check_after(after, Memory)
        return await self.db.many(
            self.q.list_memories,
            Memory,
            tenant_id=self.t,
            user_id=_opt_user(user_id),
            conversation_id=opt_uuid(conversation_id, "conversation_id"),
            kinds=_kinds(kinds),
            before_created=after.created_at if after else None,
            before_id=after.id if after else None,
            limit=check_limit(limit),
        )
