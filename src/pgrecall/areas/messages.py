# Generated from messages_async.py by tools/async_to_sync.py: do not edit.
"""``s.messages``: append-only messages, history and the LLM context window."""

from __future__ import annotations

from typing import Any, Required, TypedDict, Unpack
from uuid import UUID

from ..errors import ValidationError
from ..models.core import ROLES, Message, Role
from ._base import Area
from .validate import as_uuid, check_count, check_limit, check_text, jsonb, opt_key, opt_text

__all__ = ["MAX_CONTENT", "MessageFields", "Messages", "message_params"]

MAX_CONTENT = 1_000_000  # characters; PostgreSQL's own limit is 1 GB


class MessageFields(TypedDict, total=False):
    """The fields of a new message (keyword arguments of ``append``)."""

    role: Required[Role]
    content: Required[str]
    thinking: str | None
    metadata: dict[str, Any] | None
    token_count: int | None
    input_tokens: int | None
    output_tokens: int | None
    model: str | None
    latency_ms: int | None
    request_id: str | None
    source: str | None


def message_params(
    tenant: str, conversation_id: UUID | str, fields: MessageFields
) -> dict[str, Any]:
    """Validate an append and return the parameters of ``append_message``."""
    role, request_id = fields.get("role"), fields.get("request_id")
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r} (use one of {sorted(ROLES)})")
    unknown = set(fields) - set(MessageFields.__annotations__)
    if unknown:
        raise ValidationError(f"unknown message field(s): {', '.join(sorted(unknown))}")
    content = fields.get("content")
    if not isinstance(content, str):
        raise ValidationError("content must be text")
    if request_id == "":
        raise ValidationError("request_id must be non-empty when given")
    return dict(
        tenant_id=tenant,
        conversation_id=as_uuid(conversation_id, "conversation_id"),
        role=role,
        content=check_text(content, "content", max_len=MAX_CONTENT),
        thinking=opt_text(fields.get("thinking"), "thinking", MAX_CONTENT),
        metadata=jsonb(fields.get("metadata"), "metadata"),
        token_count=check_count(fields.get("token_count"), "token_count") or 0,
        input_tokens=check_count(fields.get("input_tokens"), "input_tokens"),
        output_tokens=check_count(fields.get("output_tokens"), "output_tokens"),
        model=opt_text(fields.get("model"), "model", 200),
        latency_ms=check_count(fields.get("latency_ms"), "latency_ms"),
        request_id=opt_key(request_id, "request_id"),
        source=opt_text(fields.get("source"), "source", 200),
    )


class Messages(Area):
    def append(
        self, conversation_id: UUID | str, /, **fields: Unpack[MessageFields]
    ) -> Message:
        """Append a message; with ``request_id`` a retry returns the first message.

        Raises :class:`ConflictError` for a closed or deleted conversation and
        :class:`NotFoundError` for an unknown one.
        """
        params = message_params(self.t, conversation_id, fields)
        msg = self.db.one(self.q.append_message, Message, **params)
        if msg is None:  # the trigger found this request_id already appended
            msg = self.db.one(
                self.q.get_message_by_request_id,
                Message,
                tenant_id=self.t,
                conversation_id=params["conversation_id"],
                request_id=params["request_id"],
            )
        if msg is None:
            raise AssertionError("append returned no row and no earlier request_id")
        return msg

    def get(self, id: UUID | str) -> Message:
        return self.db.get(self.q.get_message, Message, tenant_id=self.t, id=as_uuid(id))

    def last(self, conversation_id: UUID | str, n: int = 20) -> list[Message]:
        """The newest ``n`` messages, in chronological order."""
        return self.db.many(
            self.q.last_messages,
            Message,
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
            n=check_limit(n),
        )

    def page(
        self, conversation_id: UUID | str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Message]:
        """History in order: the messages after position ``after_seq`` (0 = the start)."""
        return self.db.many(
            self.q.page_messages,
            Message,
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
            after_seq=check_count(after_seq, "after_seq"),
            limit=check_limit(limit),
        )

    def count_by_role(self, conversation_id: UUID | str) -> dict[str, int]:
        from ..models.core import RoleCount

        rows = self.db.many(
            self.q.count_messages_by_role,
            RoleCount,
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
        )
        return {r.role: r.count for r in rows}

    def by_source(self, source: str, *, limit: int = 100) -> list[Message]:
        """The tenant's messages from ``source``, newest first."""
        return self.db.many(
            self.q.messages_by_source,
            Message,
            tenant_id=self.t,
            source=check_text(source, "source", max_len=200),
            limit=check_limit(limit),
        )

    def context(
        self, conversation_id: UUID | str, *, max_tokens: int, max_messages: int = 1000
    ) -> list[Message]:
        """The messages to send to the model, oldest first, in one SQL statement.

        The first system message is always kept; then the newest messages whose
        ``token_count`` total fits in ``max_tokens`` (minus the system prompt), at most
        ``max_messages`` of them. The window is contiguous: it stops at the first
        message that does not fit.
        """
        return self.db.many(
            self.q.context_window,
            Message,
            tenant_id=self.t,
            conversation_id=as_uuid(conversation_id, "conversation_id"),
            max_tokens=check_count(max_tokens, "max_tokens"),
            max_messages=check_limit(max_messages, 100_000),
        )
