# Generated from conversations_async.py by tools/async_to_sync.py: do not edit.
"""``s.conversations``: chat threads and their lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ..errors import ConflictError, ValidationError
from ..models.core import STATUSES, Conversation, ConversationStatus
from ._base import Area
from .users import check_user_id
from .validate import (
    as_uuid,
    check_after,
    check_choice,
    check_limit,
    check_seq,
    check_text,
    jsonb,
)

__all__ = ["Conversations"]

MAX_TITLE = 1000
# status -> the statuses it may be entered from
_FROM: dict[str, tuple[str, ...]] = {
    "archived": ("active",),
    "active": ("archived",),  # unarchive; restore has its own entry below
    "closed": ("active", "archived"),
    "deleted": ("active", "archived", "closed"),
}


class Conversations(Area):
    def create(
        self,
        user_id: str,
        *,
        title: str = "",
        persona_id: UUID | str | None = None,
        llm_config: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Conversation:
        """Start a conversation for ``user_id`` (the user row is created if new)."""
        conv = self.db.one(
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

    def get(self, id: UUID | str) -> Conversation:
        """The conversation (any status); :class:`NotFoundError` when absent."""
        return self.db.get(
            self.q.get_conversation, Conversation, tenant_id=self.t, id=as_uuid(id)
        )

    def find(self, id: UUID | str) -> Conversation | None:
        return self.db.one(
            self.q.get_conversation, Conversation, tenant_id=self.t, id=as_uuid(id)
        )

    def list(
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
        return self.db.many(
            self.q.list_conversations,
            Conversation,
            tenant_id=self.t,
            user_id=check_user_id(user_id),
            statuses=wanted,
            before_activity=after.activity_at if after else None,
            before_id=after.id if after else None,
            limit=check_limit(limit),
        )

    def rename(self, id: UUID | str, title: str) -> Conversation:
        return self.db.get(
            self.q.rename_conversation,
            Conversation,
            tenant_id=self.t,
            id=as_uuid(id),
            title=check_text(title, "title", max_len=MAX_TITLE),
        )

    def _move(self, id: UUID | str, status: str, from_: tuple[str, ...]) -> Conversation:
        cid = as_uuid(id)
        moved = self.db.one(
            self.q.set_conversation_status,
            Conversation,
            tenant_id=self.t,
            id=cid,
            status=status,
            from_statuses=list(from_),
        )
        if moved is not None:
            return moved
        current = self.get(cid)  # NotFoundError when it does not exist
        raise ConflictError(
            f"conversation {cid} is {current.status}: cannot become {status}", sqlstate="PR409"
        )

    def archive(self, id: UUID | str) -> Conversation:
        return self._move(id, "archived", _FROM["archived"])

    def unarchive(self, id: UUID | str) -> Conversation:
        return self._move(id, "active", _FROM["active"])

    def close(self, id: UUID | str) -> Conversation:
        """No more messages may be appended (status ``closed``)."""
        return self._move(id, "closed", _FROM["closed"])

    def delete(self, id: UUID | str) -> Conversation:
        """Soft delete (status ``deleted``); :meth:`restore` undoes it, :meth:`purge` is final."""
        return self._move(id, "deleted", _FROM["deleted"])

    def restore(self, id: UUID | str) -> Conversation:
        return self._move(id, "active", ("deleted",))

    def purge(self, id: UUID | str) -> bool:
        """Delete the conversation and its messages for good; ``False`` if absent."""
        n = self.db.execute(self.q.purge_conversation, tenant_id=self.t, id=as_uuid(id))
        return n > 0
