"""The runner against a real server: typed rows, kinds, streaming, COPY, errors."""

from __future__ import annotations

import time
from typing import assert_type
from uuid import UUID

import psycopg
import pytest
from pydantic import BaseModel

import pgrecall
from pgrecall import DB, AsyncDB, Query, QueryError
from pgrecall.errors import ConflictError, TransientError, ValidationError, translate


class Pair(BaseModel):
    n: int
    label: str | None


Q_ONE = Query.from_string("pair", "one", "SELECT :n::int AS n, :label::text AS label")
Q_MANY = Query.from_string(
    "pairs", "many", "SELECT g AS n, 'x' || g AS label FROM generate_series(1, :k) g ORDER BY g"
)
Q_NONE = Query.from_string("nothing", "one", "SELECT 1 AS n, 'a' AS label WHERE false")
Q_SCALAR = Query.from_string("total", "scalar", "SELECT sum(g)::int FROM generate_series(1, :k) g")
Q_EXEC = Query.from_string("mk", "exec", "CREATE TEMP TABLE t (n int PRIMARY KEY, label text)")
Q_INS = Query.from_string("ins", "exec", "INSERT INTO t VALUES (:n, :label)")
Q_COPY = Query.from_string("cp", "copy", "COPY t (n, label) FROM STDIN (FORMAT BINARY)")
Q_ROWS = Query.from_string("rows", "many", "SELECT n, label FROM t ORDER BY n")


def test_kinds_and_types(store: pgrecall.Store) -> None:
    with store.connection() as db:
        one = db.one(Q_ONE, Pair, n=7, label=None)
        assert_type(one, Pair | None)
        assert one == Pair(n=7, label=None)
        many = db.many(Q_MANY, Pair, k=3)
        assert_type(many, list[Pair])
        assert [p.label for p in many] == ["x1", "x2", "x3"]
        assert db.one(Q_NONE, Pair) is None
        total = db.scalar(Q_SCALAR, int, k=4)
        assert_type(total, int)
        assert total == 10
        assert db.scalar_or_none(Q_SCALAR, int, k=0) is None
        with pytest.raises(pgrecall.NotFoundError):
            db.scalar(Q_SCALAR, int, k=0)


def test_wrong_kind_and_params_fail_before_sql(store: pgrecall.Store) -> None:
    with store.connection() as db:
        with pytest.raises(QueryError, match="is :many, not :one"):
            db.one(Q_MANY, Pair, k=1)
        with pytest.raises(QueryError, match="missing label"):
            db.one(Q_ONE, Pair, n=1)
        with pytest.raises(QueryError, match="unknown extra"):
            db.one(Q_ONE, Pair, n=1, label="a", extra=2)


def test_row_that_does_not_fit_its_model(store: pgrecall.Store) -> None:
    bad = Query.from_string("bad", "one", "SELECT 'seven' AS n, 'x' AS label")
    with store.connection() as db, pytest.raises(ValidationError, match="bad: row does not fit"):
        db.one(bad, Pair)


def test_exec_copy_stream_and_errors_keep_sqlstate(store: pgrecall.Store) -> None:
    with store.transaction() as db:
        db.execute(Q_EXEC)
        assert db.execute(Q_INS, n=1, label="one") == 1
        assert db.copy(Q_COPY, [(n, f"v{n}") for n in range(2, 2002)]) == 2000
        streamed = [p.n for p in db.stream(Q_ROWS, Pair, batch=100)]
        assert streamed == list(range(1, 2002))
        with pytest.raises(ConflictError) as err, db.transaction():
            db.execute(Q_INS, n=1, label="again")
        assert err.value.sqlstate == "23505" and err.value.constraint_name == "t_pkey"
        assert isinstance(err.value.__cause__, psycopg.errors.UniqueViolation)
        assert db.scalar(Query.from_string("c", "scalar", "SELECT count(*) FROM t"), int) == 2001


def test_transaction_rolls_back_on_error(store: pgrecall.Store) -> None:
    with store.connection() as db:
        db.execute(Q_EXEC)
        with pytest.raises(RuntimeError), db.transaction():
            db.execute(Q_INS, n=1, label="gone")
            raise RuntimeError("boom")
        assert db.many(Q_ROWS, Pair) == []


def test_translate_maps_sqlstates() -> None:
    err = translate(psycopg.errors.SerializationFailure("could not serialize"))
    assert isinstance(err, TransientError) and err.sqlstate == "40001"
    assert not err.outcome_unknown
    lost = translate(psycopg.OperationalError("server closed the connection"))
    assert isinstance(lost, TransientError) and lost.outcome_unknown


async def test_async_runner(astore: pgrecall.AsyncStore) -> None:
    async with astore.connection() as db:
        assert isinstance(db, AsyncDB)
        one = await db.one(Q_ONE, Pair, n=1, label="a")
        assert_type(one, Pair | None)
        assert one == Pair(n=1, label="a")
        many = await db.many(Q_MANY, Pair, k=2)
        assert_type(many, list[Pair])
        assert len(many) == 2
        assert await db.scalar(Q_SCALAR, int, k=3) == 6
    async with astore.transaction() as db:
        await db.execute(Q_EXEC)
        assert await db.copy(Q_COPY, [(1, "a"), (2, None)]) == 2
        assert [p.n async for p in db.stream(Q_ROWS, Pair)] == [1, 2]


def test_wraps_any_psycopg_connection(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        db = DB(conn)
        assert db.one(Q_ONE, Pair, n=2, label="b") == Pair(n=2, label="b")


class Ids(BaseModel):
    native: UUID
    portable: UUID


def test_uuid_v7_is_time_ordered_on_both_paths(store: pgrecall.Store) -> None:
    q = Query.from_string(
        "ids",
        "many",
        "SELECT pgrecall.uuid_v7() AS native, pgrecall.uuid_v7_portable() AS portable"
        " FROM generate_series(1, :n)",
    )
    now_ms = time.time() * 1000
    with store.connection() as db:
        rows = db.many(q, Ids, n=50)
    for ids in (r.native for r in rows), (r.portable for r in rows):
        values = list(ids)
        for u in values:
            assert u.version == 7 and u.variant == "specified in RFC 4122"
            assert abs(int(u.hex[:12], 16) - now_ms) < 60_000  # 48-bit ms timestamp prefix
        stamps = [int(u.hex[:12], 16) for u in values]
        assert stamps == sorted(stamps)
