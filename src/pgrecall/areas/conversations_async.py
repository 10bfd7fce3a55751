"""``s.conversations``: chat threads and their lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ..errors import ConflictError, ValidationError
from ..models.core import STATUSES, Conversation, ConversationStatus
from ._base_async import AsyncArea
from .users_async import check_user_id
from .validate import (
    as_uuid,
    check_after,
    check_choice,
    check_limit,
    check_seq,
    check_text,
    jsonb,
)

__all__ = ["AsyncConversations"]

MAX_TITLE = 1000
# status -> the statuses it may be entered from
_FROM: dict[str, tuple[str, ...]] = {
    "archived": ("active",),
    "active": ("archived",),  # unarchive; restore has its own entry below
    "closed": ("active", "archived"),
    "deleted": ("active", "archived", "closed"),
}


class AsyncConversations(AsyncArea):
    async def create(
        self,
        user_id: str,
        *,
        title: str = "",
        persona_id: UUID | str | None = None,
        llm_config: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Conversation:
        """Start a conversation for ``user_id`` (the user row is created if new)."""
        conv = await self.db.one(
            self.q.create_conversation,
            Conversation,
            tenant_id=self.t,
            user_id=check_user_id(user_id),
            title=check_text(title, "title", max_len=MAX_TITLE),
            persona_id=None if persona_id is None else as_uuid(persona_id, "persona_id"),
            llm_config=jsonb(llm_config, "llm_config"),
            metadata=jsonb(metadata, "metadata"),
        )
        assert conv is not None  # INSERT ... RETURNING always returns the row
        return conv

    async def get(self, id: UUID | str) -> Conversation:
        """The conversation (any status); :class:`NotFoundError` when absent."""
        return await self.db.get(
            self.q.get_conversation, Conversation, tenant_id=self.t, id=as_uuid(id)
        )

    async def find(self, id: UUID | str) -> Conversation | None:
        return await self.db.one(
            self.q.get_conversation, Conversation, tenant_id=self.t, id=as_uuid(id)
        )

    async def list(
        self,
        user_id: str,
        *,
        statuses: Sequence[ConversationStatus] = ("active", "archived", "closed"),
        limit: int = 50,
        after: Conversation | None = None,
    ) -> list[Conversation]:
        """A user's conversations, most recent activity first.

        Pass the last conversation of a page as ``after`` for the next page.
        """
        wanted = [check_choice(x, STATUSES, "statuses") for x in check_seq(statuses, "statuses")]
        if not wanted:
            raise ValidationError("no status")
        after = check_after(after, Conversation)
        return await self.db.many(
            self.q.list_conversations,
            Conversation,
            tenant_id=self.t,
            user_id=check_user_id(user_id),
            statuses=wanted,
            before_activity=after.activity_at if after else None,
            before_id=after.id if after else None,
            limit=check_limit(limit),
        )

    async def rename(self, id: UUID | str, title: str) -> Conversation:
        return await self.db.get(
            self.q.rename_conversation,
            Conversation,
            tenant_id=self.t,
            id=as_uuid(id),
            title=check_text(title, "title", max_len=MAX_TITLE),
        )

    async def _move(self, id: UUID | str, status: str, from_: tuple[str, ...]) -> Conversation:
        cid = as_uuid(id)
        moved = await self.db.one(
            self.q.set_conversation_status,
            Conversation,
            tenant_id=self.t,
            id=cid,
            status=status,
            from_statuses=list(from_),
        )
        if moved is not None:
            return moved
        current = await self.get(cid)  # NotFoundError when it does not exist
        raise ConflictError(
            f"conversation {cid} is {current.status}: cannot become {status}", sqlstate="PR409"
        )

    async def archive(self, id: UUID | str) -> Conversation:
        return await self._move(id, "archived", _FROM["archived"])

    async def unarchive(self, id: UUID | str) -> Conversation:
        return await self._move(id, "active", _FROM["active"])

    async def close(self, id: UUID | str) -> Conversation:
        """No more messages may be appended (status ``closed``)."""
        return await self._move(id, "closed", _FROM["closed"])

    async def delete(self, id: UUID | str) -> Conversation:
        """Soft delete (status ``deleted``); :meth:`restore` undoes it, :meth:`purge` is final."""
        return await self._move(id, "deleted", _FROM["deleted"])

    async def restore(self, id: UUID | str) -> Conversation:
        return await self._move(id, "active", ("deleted",))

    async def purge(self, id: UUID | str) -> bool:
        """Delete the conversation and its messages for good; ``False`` if absent."""
        n = await self.db.execute(self.q.purge_conversation, tenant_id=self.t, id=as_uuid(id))
        return n > 0
