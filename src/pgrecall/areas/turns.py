# Generated from turns_async.py by tools/async_to_sync.py: do not edit.
"""One chat request in one round trip: store the message and read its context.

``store.chat_turn`` (the entry point) takes a pooled connection and calls
:func:`chat_turn` here, which sends the tenant setting, the INSERT, the context
SELECT (and, when asked, the memory recall) as one pipeline ending in a single
``Sync``: PostgreSQL runs the statements of a pipeline segment as one implicit
transaction, so they commit together or not at all, with no ``BEGIN`` / ``COMMIT``
round trips of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import psycopg
import pydantic
from psycopg import Connection, sql

from ..errors import ValidationError, translate
from ..models.core import Message
from ..models.knowledge import ChatTurn, MemoryKind
from ..query.db import DB, model_row
from ..query.named import Queries, Query
from .embeddings import _DIMS, VectorLike, _dims_key
from .memories import DEFAULT_HALF_LIFE, Memories, _kinds, _opt_user
from .messages import MessageFields, message_params
from .validate import MAX_INT, check_limit

__all__ = ["MemoryRecall", "StaleDimensions", "chat_turn", "pipelined"]

Statement = tuple["str | bytes | sql.Composed", "Sequence[Any] | Mapping[str, Any] | None"]


class StaleDimensions(Exception):
    """The cached dimension of the recall model was stale: nothing was written."""


class MemoryRecall:
    """The memory recall of a turn: ``k`` memories nearest to ``embedding``."""

    def __init__(
        self,
        embedding: VectorLike,
        *,
        model: str,
        k: int = 5,
        user_id: str | None = None,
        kinds: Sequence[MemoryKind] | None = None,
        half_life: timedelta = DEFAULT_HALF_LIFE,
        ef_search: int = 100,
    ) -> None:
        self.embedding = embedding
        self.model = model
        self.k = k
        self.user_id = user_id
        self.kinds = kinds
        self.half_life = half_life
        self.ef_search = check_limit(ef_search, 1000)


def _window(
    queries: Queries, tenant: str, cid: Any, last: int, max_tokens: int | None
) -> tuple[Query, dict[str, Any]]:
    """The context statement: the newest ``last`` messages, or the token-budgeted window."""
    n = check_limit(last, 100_000)
    if max_tokens is None:
        return queries.last_messages, dict(tenant_id=tenant, conversation_id=cid, n=n)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise ValidationError("max_tokens must be an integer")
    if not 0 <= max_tokens <= MAX_INT:
        raise ValidationError(f"max_tokens must be between 0 and {MAX_INT}")
    params = dict(tenant_id=tenant, conversation_id=cid, max_tokens=max_tokens, max_messages=n)
    return queries.context_window, params


def chat_turn(
    db: DB,
    tenant: str,
    queries: Queries,
    conversation_id: Any,
    fields: MessageFields,
    *,
    begin: Statement,
    last: int,
    max_tokens: int | None,
    memories: MemoryRecall | None,
) -> ChatTurn:
    """Append the message and read the context (and memories): one round trip.

    ``begin`` is the statement that sets the tenant (the store's form of it). With
    memories, the recall model's dimension comes from the process cache and is
    checked by a guard statement in the same pipeline; a stale one aborts the turn
    before anything is written, and the turn is sent again with the fresh dimension.
    """
    params = message_params(tenant, conversation_id, fields)
    cid = params["conversation_id"]
    request_id = params["request_id"]
    window, window_params = _window(queries, tenant, cid, last, max_tokens)
    for attempt in range(2):
        steps: list[tuple[Query, type[Any] | None, Mapping[str, Any]]] = []
        recall = None
        if memories is not None:
            recall, dims = _recall(db, tenant, queries, cid, memories, begin)
            guard = dict(tenant_id=tenant, model=memories.model, dimensions=dims)
            steps.append((queries.check_model_dimensions, None, guard))
            knobs = dict(ef_search=memories.ef_search, max_scan_tuples=20_000)
            steps.append((queries.set_vector_search, None, knobs))
        first = len(steps)
        steps.append((queries.append_message, Message, params))
        if request_id is not None:
            by_request = dict(tenant_id=tenant, conversation_id=cid, request_id=request_id)
            steps.append((queries.get_message_by_request_id, Message, by_request))
        steps.append((window, Message, window_params))
        if recall is not None:
            steps.append(recall)
        try:
            results = pipelined(db.conn, begin, steps, guarded=recall is not None)
        except StaleDimensions:
            assert memories is not None
            _DIMS.pop(_dims_key(db.conn, tenant, memories.model), None)
            if attempt:
                raise ValidationError(
                    f"embedding model {memories.model!r} changed while recalling"
                ) from None
            continue
        inserted = results[first]
        message = inserted[0] if inserted else None
        if message is None and request_id is not None:  # a retry: the earlier message
            earlier = results[first + 1]
            message = earlier[0] if earlier else None
        if message is None:
            raise AssertionError("append returned no row and no earlier request_id")
        context = results[-2] if recall is not None else results[-1]
        recalled = results[-1] if recall is not None else []
        return ChatTurn.model_construct(message=message, context=context, memories=recalled)
    raise AssertionError("unreachable")


def _recall(
    db: DB,
    tenant: str,
    queries: Queries,
    cid: Any,
    memories: MemoryRecall,
    begin: Statement,
) -> tuple[tuple[Query, type[Any] | None, Mapping[str, Any]], int]:
    """The recall statement for the turn and the dimension it was written for (from
    the process cache; on a miss read once, in a transaction of its own)."""
    area = Memories(db, tenant, queries)
    filters = dict(
        user_id=_opt_user(memories.user_id),
        user_of_conversation=cid if memories.user_id is None else None,
        conversation_id=None,
        persona_id=None,
        kinds=_kinds(memories.kinds),
    )
    if _dims_key(db.conn, tenant, memories.model) not in _DIMS:
        conn = db.conn
        try:
            with conn.transaction():
                conn.execute(begin[0], begin[1])
                area.dimensions_of(memories.model)
        except psycopg.Error as exc:
            raise translate(exc) from exc
    args = (memories.embedding, memories.k, memories.model, filters, (1.0, 0.5, 0.5),
            memories.half_life, None)
    try:
        query, row, params = area._recall_step(*args)
    except ValidationError:  # the embedding may fit a dimension cached before a change
        cached = (area._dims or {}).get(memories.model)
        _DIMS.pop(_dims_key(db.conn, tenant, memories.model), None)
        if cached is None or not _redeclared(db, area, memories.model, cached, begin):
            raise
        query, row, params = area._recall_step(*args)
    return (query, row, params), (area._dims or {})[memories.model]


def _redeclared(
    db: DB, area: Memories, model: str, cached: int, begin: Statement
) -> bool:
    """Whether ``model`` is now declared with another dimension than ``cached``."""
    conn = db.conn
    try:
        with conn.transaction():
            conn.execute(begin[0], begin[1])
            return area.dimensions_of(model, fresh=True) != cached
    except psycopg.Error as exc:
        raise translate(exc) from exc


def pipelined(
    conn: Connection[Any],
    begin: Statement,
    steps: Sequence[tuple[Query, type[Any] | None, Mapping[str, Any]]],
    *,
    guarded: bool = False,
) -> list[list[Any]]:
    """``begin`` and every step in one pipeline segment: one round trip, one implicit
    transaction (all commit or none). Returns each step's rows (``[]`` for a step with
    no row model). Also the body of ``store.append_message``."""
    cursors: list[psycopg.Cursor[Any]] = []
    # Citus (the tenant as SET LOCAL, no parameters): SET LOCAL acts, and reaches the
    # workers, only in an explicit transaction block -- still the same round trip.
    block = begin[1] is None
    conn.set_autocommit(True)
    try:
        with conn.pipeline():
            if block:
                conn.execute("BEGIN")
            conn.execute(begin[0], begin[1], prepare=begin[1] is not None)
            for query, row, params in steps:
                factory = model_row(row) if row is not None else None
                cur = conn.cursor(row_factory=factory) if factory else conn.cursor()
                cursors.append(cur)
                cur.execute(query.sql, query.bind(params) or None)
            if block:
                conn.execute("COMMIT")
        return [cur.fetchall() if cur.description else [] for cur in cursors]
    except psycopg.errors.DivisionByZero as exc:
        if guarded:  # check_model_dimensions: nothing was written
            raise StaleDimensions() from exc
        raise translate(exc) from exc
    except psycopg.Error as exc:
        raise translate(exc) from exc
    except pydantic.ValidationError as exc:
        raise ValidationError(f"chat turn row does not fit its model: {exc}") from exc
    finally:
        for cur in cursors:
            cur.close()
        if block and not conn.closed:
            conn.rollback()  # after an error the block is still open (no-op otherwise)
        if not conn.closed:
            conn.set_autocommit(False)
