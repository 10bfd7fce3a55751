"""``/v1/conversations``: conversations, their messages and the LLM context window."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from pgrecall.models import Conversation, ConversationStatus, MemoryContext, Message

from .deps import CtxDep, IdempotencyKey
from .problems import responses
from .routes_knowledge import fits
from .schemas import (
    ContextIn,
    ConversationIn,
    ConversationPatch,
    Cursor,
    MessageIn,
    Name,
    Page,
    bad_cursor,
    decode_cursor,
    encode_cursor,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]
CursorQ = Annotated[str | None, Query(max_length=500, description="next_cursor of the last page")]


@router.post("", status_code=201, responses=responses(409, body=True))
async def create_conversation(body: ConversationIn, ctx: CtxDep) -> Conversation:
    """Start a conversation for `user_id` (the user is created on first use)."""
    async with ctx.session() as s:
        conv = await s.conversations.create(**body.model_dump(exclude_unset=True))
    return conv


@router.get("", responses=responses())
async def list_conversations(
    ctx: CtxDep,
    user_id: Annotated[Name, Query(description="Whose conversations")],
    status: Annotated[list[ConversationStatus] | None, Query()] = None,
    limit: Limit = 50,
    cursor: CursorQ = None,
) -> Page[Conversation]:
    """A user's conversations, most recent activity first, in pages (keyset)."""
    after = None
    if cursor is not None:
        c = decode_cursor(cursor)
        if c.at is None or c.id is None:
            raise bad_cursor()
        # list() reads only the keyset columns (activity_at, id) of ``after``
        keyset: dict[str, Any] = {"activity_at": c.at, "id": c.id}
        after = Conversation.model_construct(**keyset)
    statuses = status or ["active", "archived", "closed"]
    async with ctx.session() as s:
        items = await s.conversations.list(user_id, statuses=statuses, limit=limit, after=after)
    last = items[-1] if len(items) == limit else None
    next_cursor = encode_cursor(Cursor(at=last.activity_at, id=last.id)) if last else None
    return Page[Conversation](items=items, next_cursor=next_cursor)


@router.get("/{id}", responses=responses(404))
async def get_conversation(id: UUID, ctx: CtxDep) -> Conversation:
    async with ctx.session() as s:
        conv = await s.conversations.get(id)
    return conv


@router.patch("/{id}", responses=responses(404, body=True))
async def update_conversation(id: UUID, body: ConversationPatch, ctx: CtxDep) -> Conversation:
    """Rename the conversation."""
    async with ctx.session() as s:
        conv = await s.conversations.rename(id, body.title)
    return conv


@router.delete("/{id}", responses=responses(404, 409))
async def delete_conversation(id: UUID, ctx: CtxDep) -> Conversation:
    """Soft delete (status `deleted`); `POST .../restore` undoes it."""
    async with ctx.session() as s:
        conv = await s.conversations.delete(id)
    return conv


_MOVES = responses(404, 409)


@router.post("/{id}/archive", responses=_MOVES)
async def archive_conversation(id: UUID, ctx: CtxDep) -> Conversation:
    """Archive an active conversation."""
    async with ctx.session() as s:
        conv = await s.conversations.archive(id)
    return conv


@router.post("/{id}/unarchive", responses=_MOVES)
async def unarchive_conversation(id: UUID, ctx: CtxDep) -> Conversation:
    """Make an archived conversation active again."""
    async with ctx.session() as s:
        conv = await s.conversations.unarchive(id)
    return conv


@router.post("/{id}/close", responses=_MOVES)
async def close_conversation(id: UUID, ctx: CtxDep) -> Conversation:
    """Close it: no more messages may be appended."""
    async with ctx.session() as s:
        conv = await s.conversations.close(id)
    return conv


@router.post("/{id}/restore", responses=_MOVES)
async def restore_conversation(id: UUID, ctx: CtxDep) -> Conversation:
    """Undo a soft delete."""
    async with ctx.session() as s:
        conv = await s.conversations.restore(id)
    return conv


@router.post("/{id}/messages", status_code=201, responses=responses(404, 409, body=True))
async def append_message(
    id: UUID, body: MessageIn, ctx: CtxDep, idempotency_key: IdempotencyKey = None
) -> Message:
    """Append a message. With `Idempotency-Key` (stored as `request_id`) a retry returns
    the first message, with the same status."""
    async with ctx.session() as s:
        msg = await s.messages.append(
            id, request_id=idempotency_key, **body.model_dump(exclude_unset=True)
        )
    return msg


@router.get("/{id}/messages", responses=responses(404))
async def list_messages(
    id: UUID, ctx: CtxDep, limit: Limit = 100, cursor: CursorQ = None
) -> Page[Message]:
    """The conversation's history in order, in pages (keyset on `seq`)."""
    after_seq = 0
    if cursor is not None:
        c = decode_cursor(cursor)
        if c.seq is None or c.seq < 0:
            raise bad_cursor()
        after_seq = c.seq or 0
    async with ctx.session() as s:
        await s.conversations.get(id)  # 404 for an unknown (or another tenant's) id
        items = await s.messages.page(id, after_seq=after_seq, limit=limit)
    last = items[-1] if len(items) == limit else None
    return Page[Message](
        items=items, next_cursor=encode_cursor(Cursor(seq=last.seq)) if last else None
    )


@router.get("/{id}/context", responses=responses(404))
async def get_context(
    id: UUID,
    ctx: CtxDep,
    max_tokens: Annotated[int, Query(ge=0, le=2**31 - 1)],
    max_messages: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> list[Message]:
    """The messages to send to the model, oldest first: the first system message, then
    the newest messages whose `token_count` fits in `max_tokens`."""
    async with ctx.session() as s:
        await s.conversations.get(id)
        window = await s.messages.context(id, max_tokens=max_tokens, max_messages=max_messages)
    return window


@router.post("/{id}/context", responses=responses(404, 409, body=True))
async def get_context_with_memories(id: UUID, body: ContextIn, ctx: CtxDep) -> MemoryContext:
    """The context window and, given an `embedding` and its `model`, the memories most
    relevant to it (recall counts as an access)."""
    fields = body.model_dump(exclude_unset=True, exclude={"embedding"})
    async with ctx.session() as s:
        await s.conversations.get(id)
        if body.embedding is not None:
            await fits(s, body.embedding.model, body.embedding.vector)
            fields |= {"embedding": body.embedding.vector, "model": body.embedding.model}
        found = await s.memories.context(id, **fields)
    return found
