"""Issue 10.10: reads of an unknown (or another tenant's) conversation raise NotFoundError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

import pgrecall
from pgrecall import NotFoundError

READS: dict[str, Callable[[pgrecall.Session, UUID], Any]] = {
    "last": lambda s, c: s.messages.last(c),
    "context": lambda s, c: s.messages.context(c, max_tokens=1000),
    "page": lambda s, c: s.messages.page(c),
    "count_by_role": lambda s, c: s.messages.count_by_role(c),
}


@pytest.mark.parametrize("read", list(READS))
def test_reads_of_unknown_or_foreign_conversations_raise(
    store: pgrecall.Store, db_url: str, read: str
) -> None:
    with store.session(tenant="other") as s:
        foreign = s.conversations.create("u").id
        s.messages.append(foreign, role="user", content="secret", token_count=1)
    with store.session(tenant="acme") as s:
        empty = s.conversations.create("u").id
        full = s.conversations.create("u").id
        s.messages.append(full, role="user", content="hi", token_count=1)
        assert READS[read](s, empty) in ([], {})  # known but empty: no error
        assert READS[read](s, full)
        for unknown in (uuid4(), foreign):
            with pytest.raises(NotFoundError, match="conversation"), s.savepoint():
                READS[read](s, unknown)


def test_the_check_runs_once_per_statement(store: pgrecall.Store) -> None:
    """Folded into each read as a one-time filter: no extra round trip, not once per row."""
    with store.session(tenant="acme") as s:
        c = s.conversations.create("u").id
        base = dict(tenant_id="acme", conversation_id=c)
        for name, extra in (
            ("last_messages", {"n": 5}),
            ("page_messages", {"after_seq": 0, "limit": 5}),
            ("count_messages_by_role", {}),
        ):
            query = store.queries[name]
            assert b"pgrecall.require_conversation(" in query.sql, name
            params = base | extra
            plan = s.db.conn.execute(b"EXPLAIN " + query.sql, query.bind(params)).fetchall()
            assert any("One-Time Filter" in row[0] for row in plan), (name, plan)
