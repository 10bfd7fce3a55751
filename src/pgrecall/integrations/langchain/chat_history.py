"""``PgRecallChatMessageHistory``: a LangChain chat history over a pgrecall conversation.

Each LangChain message is one append-only row of ``pgrecall.messages``: the role
column says who spoke (human -> ``user``, ai -> ``assistant``, system, tool and
function -> ``tool``, a ``ChatMessage`` keeps its role when pgrecall knows it, else
``user``), ``content`` holds the text, and ``metadata.langchain`` everything else the
message carries (type, tool calls, additional and response kwargs, name, id, list
content), so a message reads back equal to the one added. Token usage and the model
name of an AI message also fill pgrecall's ``input_tokens`` / ``output_tokens`` /
``model`` columns. A message with an ``id`` is appended once: adding it again (a retry)
changes nothing.

Messages are immutable, so :meth:`clear` does not delete them: it soft-deletes the
conversation (``s.conversations.restore`` brings it back) and continues in a new one
for the same user, which this object then points at (``conversation_id`` changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    message_to_dict,
    messages_from_dict,
)

from pgrecall.errors import ValidationError
from pgrecall.models import Message

from . import _ops, _ops_async
from ._run import AnyStore, Runner

__all__ = ["LC_KEY", "PgRecallChatMessageHistory", "from_row", "to_fields"]

LC_KEY = "langchain"
_ROLES = ("system", "user", "assistant", "tool")


def _role(msg: BaseMessage) -> str:
    if isinstance(msg, HumanMessage):
        return "user"
    if isinstance(msg, AIMessage):
        return "assistant"
    if isinstance(msg, SystemMessage):
        return "system"
    if isinstance(msg, (ToolMessage, FunctionMessage)):
        return "tool"
    if isinstance(msg, ChatMessage) and msg.role in _ROLES:
        return msg.role
    return "user"


def to_fields(msg: BaseMessage) -> dict[str, Any]:
    """The ``s.messages.append`` fields of a LangChain message."""
    if not isinstance(msg, BaseMessage):
        raise ValidationError(f"not a LangChain message: {type(msg).__name__}")
    dumped = message_to_dict(msg)
    data = dict(dumped["data"])
    text = data.pop("content") if isinstance(msg.content, str) else msg.text
    fields: dict[str, Any] = dict(
        role=_role(msg),
        content=text,
        metadata={LC_KEY: {"type": dumped["type"], "data": data}},
    )
    if msg.id:
        fields["request_id"] = msg.id
    if isinstance(msg, AIMessage):
        usage = msg.usage_metadata
        if usage is not None:
            fields["input_tokens"] = usage.get("input_tokens")
            fields["output_tokens"] = usage.get("output_tokens")
        model = msg.response_metadata.get("model_name") or msg.response_metadata.get("model")
        fields["model"] = model if isinstance(model, str) else None
    return fields


def from_row(m: Message) -> BaseMessage:
    """The LangChain message of a stored row (also of rows pgrecall wrote itself)."""
    lc = m.metadata.get(LC_KEY)
    if isinstance(lc, dict) and isinstance(lc.get("type"), str):
        data = {"content": m.content, **lc.get("data", {})}
        return messages_from_dict([{"type": lc["type"], "data": data}])[0]
    id = str(m.id)
    if m.role == "user":
        return HumanMessage(content=m.content, id=id)
    if m.role == "assistant":
        return AIMessage(content=m.content, id=id)
    if m.role == "system":
        return SystemMessage(content=m.content, id=id)
    call = m.metadata.get("tool_call_id")
    return ToolMessage(content=m.content, id=id, tool_call_id=str(call or ""))


class PgRecallChatMessageHistory(BaseChatMessageHistory):
    """The messages of conversation ``conversation_id`` of ``tenant``.

    ``last``: read only the newest ``last`` messages (default: all of them). Start a
    conversation with :meth:`create` (or ``s.conversations.create``).
    """

    def __init__(
        self,
        store: AnyStore,
        *,
        tenant: str,
        conversation_id: UUID | str,
        last: int | None = None,
    ) -> None:
        self._run = Runner(store, tenant)
        try:
            self.conversation_id = UUID(str(conversation_id))
        except ValueError:
            raise ValidationError(f"conversation_id is not a UUID: {conversation_id!r}") from None
        self.last = last

    @classmethod
    def create(
        cls, store: AnyStore, *, tenant: str, user_id: str, title: str = ""
    ) -> PgRecallChatMessageHistory:
        """A new conversation of ``user_id`` and its history (sync ``Store``)."""
        conv = Runner(store, tenant).run(lambda s: _ops.chat_create(s, user_id, title))
        return cls(store, tenant=tenant, conversation_id=conv.id)

    @classmethod
    async def acreate(
        cls, store: AnyStore, *, tenant: str, user_id: str, title: str = ""
    ) -> PgRecallChatMessageHistory:
        conv = await Runner(store, tenant).arun(
            lambda s: _ops_async.chat_create(s, user_id, title),
            lambda s: _ops.chat_create(s, user_id, title),
        )
        return cls(store, tenant=tenant, conversation_id=conv.id)

    @property
    def messages(self) -> list[BaseMessage]:
        """The conversation's messages, oldest first."""
        cid, last = self.conversation_id, self.last
        rows = self._run.run(lambda s: _ops.chat_read(s, cid, last), read_only=True)
        return [from_row(m) for m in rows]

    @messages.setter
    def messages(self, value: list[BaseMessage]) -> None:
        raise AttributeError("messages are append-only: use add_messages (or clear)")

    async def aget_messages(self) -> list[BaseMessage]:
        cid, last = self.conversation_id, self.last
        rows = await self._run.arun(
            lambda s: _ops_async.chat_read(s, cid, last),
            lambda s: _ops.chat_read(s, cid, last),
            read_only=True,
        )
        return [from_row(m) for m in rows]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append ``messages`` in one transaction (all or none); one message goes in one
        round trip (``store.append_message``)."""
        fields, cid, t = [to_fields(m) for m in messages], self.conversation_id, self._run.tenant
        if len(fields) == 1:
            self._run.call(lambda st: st.append_message(t, cid, **fields[0]))
        elif fields:
            self._run.run(lambda s: _ops.chat_append(s, cid, fields))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        fields, cid, t = [to_fields(m) for m in messages], self.conversation_id, self._run.tenant
        if len(fields) == 1:
            await self._run.acall(
                lambda st: st.append_message(t, cid, **fields[0]),
                lambda st: st.append_message(t, cid, **fields[0]),
            )
        elif fields:
            await self._run.arun(
                lambda s: _ops_async.chat_append(s, cid, fields),
                lambda s: _ops.chat_append(s, cid, fields),
            )

    def clear(self) -> None:
        """Soft-delete the conversation and continue in a new one (see the module doc)."""
        conv = self._run.run(lambda s: _ops.chat_clear(s, self.conversation_id))
        self.conversation_id = conv.id

    async def aclear(self) -> None:
        cid = self.conversation_id
        conv = await self._run.arun(
            lambda s: _ops_async.chat_clear(s, cid), lambda s: _ops.chat_clear(s, cid)
        )
        self.conversation_id = conv.id
