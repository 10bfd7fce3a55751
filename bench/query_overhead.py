"""P1: a named ``:one`` query mapped to a pydantic model vs raw psycopg, same connection.

Both sides run the same statement (``get_conversation``) on the same connection, with
psycopg's automatic prepared statements; the raw side fetches a plain tuple.
"""

from __future__ import annotations

import psycopg

import pgrecall
from pgrecall.models.core import Conversation
from pgrecall.query.resources import project_queries

from ._harness import Result, interleaved, median


def run(url: str, *, quick: bool = False) -> list[Result]:
    q = project_queries().get_conversation
    with pgrecall.connect(url, pool_min_size=1, pool_max_size=1) as store:
        with store.session(tenant="bench") as s:
            cid = s.conversations.create(user_id="u1", title="bench").id
        raw_sql = q.sql  # the same compiled text: %(tenant_id)s, %(id)s
        params = {"tenant_id": "bench", "id": cid}
        with store.connection() as db:
            conn: psycopg.Connection[tuple[object, ...]] = db.conn
            conn.autocommit = True

            def raw() -> object:
                with conn.cursor() as cur:
                    cur.execute(raw_sql, params)
                    return cur.fetchone()

            def named() -> object:
                return db.one(q, Conversation, tenant_id="bench", id=cid)

            samples = interleaved(
                {"raw psycopg": raw, "pgrecall": named},
                n=300 if quick else 2000,
                rounds=5 if quick else 15,
            )
            conn.autocommit = False
    raw_us = median(samples["raw psycopg"]) * 1e6
    named_us = median(samples["pgrecall"]) * 1e6
    return [
        Result(
            name="P1 named :one query → pydantic model (get_conversation)",
            unit="µs/call",
            values={"raw psycopg": raw_us, "pgrecall": named_us},
            ratio=named_us / raw_us,
            baseline="raw psycopg",
            target="≤ 1.10×",
        )
    ]
