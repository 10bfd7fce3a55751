"""``PgRecallChatStore``: LlamaIndex's ``BaseChatStore`` on conversations and messages.

A chat key is a pgrecall user (``<user_prefix><key>``, default ``llama_index:<key>``)
whose current chat is its most recently active ``active`` conversation. Messages are
append-only in pgrecall, so nothing is rewritten in place:

- ``add_message`` appends to the current conversation (started on first use);
- ``set_messages``, ``delete_message`` and ``delete_last_message`` soft-delete the
  current conversation (``status = 'deleted'``: ``s.conversations.restore`` brings it
  back; the cleanup job purges it later) and start a new one holding the new history;
- ``delete_messages`` soft-deletes the current conversation and returns its messages.

Each message keeps the full LlamaIndex ``ChatMessage`` (role, blocks, additional kwargs
such as tool calls) in its ``metadata.llama_index``, so it round-trips; the pgrecall role
is the nearest of system / user / assistant / tool.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.storage.chat_store.base import BaseChatStore

from ...models import Conversation, Message, Role
from ...session import Session
from ...session_async import AsyncSession
from ...store import Store
from ...store_async import AsyncStore
from ._backend import Backend

__all__ = ["PgRecallChatStore"]

META_KEY = "llama_index"
PAGE = 1000
_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "chatbot": "assistant",
    "model": "assistant",
    "tool": "tool",
    "function": "tool",
}


def _fields(message: ChatMessage) -> dict[str, Any]:
    role = _ROLES.get(str(message.role.value), "user")
    return dict(
        role=role,
        content=message.content or "",
        metadata={META_KEY: message.model_dump(mode="json")},
    )


def _chat(m: Message) -> ChatMessage:
    saved = m.metadata.get(META_KEY)
    if isinstance(saved, dict):
        return ChatMessage.model_validate(saved)
    return ChatMessage(role=m.role, content=m.content, additional_kwargs=dict(m.metadata))


def _remove(messages: list[ChatMessage], idx: int) -> ChatMessage | None:
    if not -len(messages) <= idx < len(messages):
        return None
    return messages.pop(idx)


class _Sync:
    """The chat operations on one sync session."""

    def __init__(self, s: Session, user: str) -> None:
        self.s, self.user = s, user

    def current(self) -> Conversation | None:
        found = self.s.conversations.list(self.user, statuses=("active",), limit=1)
        return found[0] if found else None

    def messages(self, conversation: UUID) -> list[ChatMessage]:
        out: list[Message] = []
        while page := self.s.messages.page(conversation, after_seq=out[-1].seq if out else 0,
                                           limit=PAGE):  # fmt: skip
            out.extend(page)
            if len(page) < PAGE:
                break
        return [_chat(m) for m in out]

    def get(self) -> list[ChatMessage]:
        c = self.current()
        return [] if c is None else self.messages(c.id)

    def add(self, message: ChatMessage) -> None:
        c = self.current() or self.s.conversations.create(self.user, title="llama_index")
        self.s.messages.append(c.id, **_fields(message))

    def set(self, messages: list[ChatMessage]) -> None:
        c = self.current()
        if c is not None:
            self.s.conversations.delete(c.id)
        new = self.s.conversations.create(self.user, title="llama_index")
        for m in messages:
            self.s.messages.append(new.id, **_fields(m))

    def clear(self) -> list[ChatMessage] | None:
        c = self.current()
        if c is None:
            return None
        messages = self.messages(c.id)
        self.s.conversations.delete(c.id)
        return messages

    def remove(self, idx: int) -> ChatMessage | None:
        messages = self.get()
        removed = _remove(messages, idx)
        if removed is not None:
            self.set(messages)
        return removed


class _Async:
    """The same operations on one async session."""

    def __init__(self, s: AsyncSession, user: str) -> None:
        self.s, self.user = s, user

    async def current(self) -> Conversation | None:
        found = await self.s.conversations.list(self.user, statuses=("active",), limit=1)
        return found[0] if found else None

    async def messages(self, conversation: UUID) -> list[ChatMessage]:
        out: list[Message] = []
        while page := await self.s.messages.page(
            conversation, after_seq=out[-1].seq if out else 0, limit=PAGE
        ):
            out.extend(page)
            if len(page) < PAGE:
                break
        return [_chat(m) for m in out]

    async def get(self) -> list[ChatMessage]:
        c = await self.current()
        return [] if c is None else await self.messages(c.id)

    async def add(self, message: ChatMessage) -> None:
        c = await self.current() or await self.s.conversations.create(
            self.user, title="llama_index"
        )
        await self.s.messages.append(c.id, **_fields(message))

    async def set(self, messages: list[ChatMessage]) -> None:
        c = await self.current()
        if c is not None:
            await self.s.conversations.delete(c.id)
        new = await self.s.conversations.create(self.user, title="llama_index")
        for m in messages:
            await self.s.messages.append(new.id, **_fields(m))

    async def clear(self) -> list[ChatMessage] | None:
        c = await self.current()
        if c is None:
            return None
        messages = await self.messages(c.id)
        await self.s.conversations.delete(c.id)
        return messages

    async def remove(self, idx: int) -> ChatMessage | None:
        messages = await self.get()
        removed = _remove(messages, idx)
        if removed is not None:
            await self.set(messages)
        return removed


def _keys(s: Session, prefix: str) -> list[str]:
    keys: list[str] = []
    after = prefix
    while users := s.users.list(after=after, limit=PAGE):
        for u in users:
            if not u.user_id.startswith(prefix):
                return keys
            if _Sync(s, u.user_id).current() is not None:
                keys.append(u.user_id[len(prefix) :])
        after = users[-1].user_id
    return keys


async def _akeys(s: AsyncSession, prefix: str) -> list[str]:
    keys: list[str] = []
    after = prefix
    while users := await s.users.list(after=after, limit=PAGE):
        for u in users:
            if not u.user_id.startswith(prefix):
                return keys
            if await _Async(s, u.user_id).current() is not None:
                keys.append(u.user_id[len(prefix) :])
        after = users[-1].user_id
    return keys


class PgRecallChatStore(BaseChatStore):
    """Chat histories of one tenant, by key (see the module docstring for the rules)."""

    tenant: str
    user_prefix: str = "llama_index:"
    _backend: Backend = PrivateAttr()

    def __init__(
        self, store: Store | AsyncStore, *, tenant: str, user_prefix: str = "llama_index:"
    ) -> None:
        super().__init__(tenant=tenant, user_prefix=user_prefix)
        self._backend = Backend(store, tenant)

    @classmethod
    def class_name(cls) -> str:
        return "PgRecallChatStore"

    def _user(self, key: str) -> str:
        return f"{self.user_prefix}{key}"

    def set_messages(self, key: str, messages: list[ChatMessage]) -> None:
        self._backend.call(lambda s: _Sync(s, self._user(key)).set(messages))

    async def aset_messages(self, key: str, messages: list[ChatMessage]) -> None:
        u = self._user(key)
        await self._backend.acall(
            lambda s: _Sync(s, u).set(messages), lambda s: _Async(s, u).set(messages)
        )

    def get_messages(self, key: str) -> list[ChatMessage]:
        return self._backend.call(lambda s: _Sync(s, self._user(key)).get())

    async def aget_messages(self, key: str) -> list[ChatMessage]:
        u = self._user(key)
        return await self._backend.acall(lambda s: _Sync(s, u).get(), lambda s: _Async(s, u).get())

    def add_message(self, key: str, message: ChatMessage) -> None:
        self._backend.call(lambda s: _Sync(s, self._user(key)).add(message))

    async def async_add_message(self, key: str, message: ChatMessage) -> None:
        u = self._user(key)
        await self._backend.acall(
            lambda s: _Sync(s, u).add(message), lambda s: _Async(s, u).add(message)
        )

    def delete_messages(self, key: str) -> list[ChatMessage] | None:
        return self._backend.call(lambda s: _Sync(s, self._user(key)).clear())

    async def adelete_messages(self, key: str) -> list[ChatMessage] | None:
        u = self._user(key)
        return await self._backend.acall(
            lambda s: _Sync(s, u).clear(), lambda s: _Async(s, u).clear()
        )

    def delete_message(self, key: str, idx: int) -> ChatMessage | None:
        return self._backend.call(lambda s: _Sync(s, self._user(key)).remove(idx))

    async def adelete_message(self, key: str, idx: int) -> ChatMessage | None:
        u = self._user(key)
        return await self._backend.acall(
            lambda s: _Sync(s, u).remove(idx), lambda s: _Async(s, u).remove(idx)
        )

    def delete_last_message(self, key: str) -> ChatMessage | None:
        return self.delete_message(key, -1)

    async def adelete_last_message(self, key: str) -> ChatMessage | None:
        return await self.adelete_message(key, -1)

    def get_keys(self) -> list[str]:
        """Keys with a current chat (one query per user under the prefix)."""
        return self._backend.call(lambda s: _keys(s, self.user_prefix))

    async def aget_keys(self) -> list[str]:
        p = self.user_prefix
        return await self._backend.acall(lambda s: _keys(s, p), lambda s: _akeys(s, p))
