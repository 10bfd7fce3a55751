"""``s.states``: per-conversation JSON state of a persona's modules.

A value is addressed by (conversation, persona, module, key); persona and module may be
``None`` for conversation-wide state (``None`` matches ``None``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from ..errors import ValidationError
from ..models.ops import ConversationState
from ._base_async import AsyncArea
from .validate import as_uuid, check_json, check_limit, check_object, check_text, opt_uuid

__all__ = ["AsyncStates"]


def _key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValidationError("state key must be non-empty text")
    return check_text(key, "state key", max_len=200)


class AsyncStates(AsyncArea):
    def _where(
        self,
        conversation_id: UUID | str,
        key: str,
        persona_id: UUID | str | None,
        module_id: UUID | str | None,
    ) -> dict[str, Any]:
        return dict(
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
            persona_id=opt_uuid(persona_id, "persona_id"),
            module_id=opt_uuid(module_id, "module_id"),
            key=_key(key),
        )

    async def set(
        self,
        conversation_id: UUID | str,
        key: str,
        value: Any,
        *,
        persona_id: UUID | str | None = None,
        module_id: UUID | str | None = None,
    ) -> ConversationState:
        """Create or replace the value (one statement: concurrent calls never fail)."""
        where = self._where(conversation_id, key, persona_id, module_id)
        state = await self.db.one(
            self.q.upsert_state,
            ConversationState,
            value=Jsonb(check_json(value, "state value")),
            **where,
        )
        assert state is not None  # INSERT ... ON CONFLICT DO UPDATE always returns the row
        return state

    async def merge(
        self,
        conversation_id: UUID | str,
        key: str,
        patch: dict[str, Any],
        *,
        persona_id: UUID | str | None = None,
        module_id: UUID | str | None = None,
    ) -> ConversationState:
        """Merge ``patch`` into the stored JSON object (top-level keys), atomically."""
        if not isinstance(patch, dict):
            raise ValidationError("patch must be a JSON object (dict)")
        where = self._where(conversation_id, key, persona_id, module_id)
        state = await self.db.one(
            self.q.merge_state,
            ConversationState,
            value=Jsonb(check_object(patch, "patch")),
            **where,
        )
        assert state is not None
        return state

    async def get(
        self,
        conversation_id: UUID | str,
        key: str,
        *,
        persona_id: UUID | str | None = None,
        module_id: UUID | str | None = None,
    ) -> ConversationState | None:
        return await self.db.one(
            self.q.get_state,
            ConversationState,
            **self._where(conversation_id, key, persona_id, module_id),
        )

    async def value(
        self,
        conversation_id: UUID | str,
        key: str,
        default: Any = None,
        *,
        persona_id: UUID | str | None = None,
        module_id: UUID | str | None = None,
    ) -> Any:
        """The stored value, or ``default``."""
        state = await self.get(conversation_id, key, persona_id=persona_id, module_id=module_id)
        return default if state is None else state.value

    async def delete(
        self,
        conversation_id: UUID | str,
        key: str,
        *,
        persona_id: UUID | str | None = None,
        module_id: UUID | str | None = None,
    ) -> bool:
        n = await self.db.execute(
            self.q.delete_state, **self._where(conversation_id, key, persona_id, module_id)
        )
        return n > 0

    async def clear(
        self,
        conversation_id: UUID | str,
        *,
        persona_id: UUID | str | None = None,
        module_id: UUID | str | None = None,
    ) -> int:
        """Delete the conversation's states (only one persona's / module's when given)."""
        return await self.db.execute(
            self.q.clear_states,
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
            persona_id=opt_uuid(persona_id, "persona_id"),
            module_id=opt_uuid(module_id, "module_id"),
        )

    async def list(
        self,
        conversation_id: UUID | str,
        *,
        persona_id: UUID | str | None = None,
        module_id: UUID | str | None = None,
        limit: int = 1000,
    ) -> list[ConversationState]:
        """The conversation's states (of one persona / module when given), by key."""
        return await self.db.many(
            self.q.list_states,
            ConversationState,
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
            persona_id=opt_uuid(persona_id, "persona_id"),
            module_id=opt_uuid(module_id, "module_id"),
            limit=check_limit(limit),
        )
