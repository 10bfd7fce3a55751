"""The fast paths of issue 14 keep their promises: row mapping reads column names once
per result and stays correct when a statement's columns change."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest
from pydantic import BaseModel

import pgrecall
from pgrecall import Query
from pgrecall.errors import ValidationError
from pgrecall.query.db import model_row


class Item(BaseModel):
    n: int
    label: str


class Wide(BaseModel):
    n: int
    label: str
    extra: int | None = None


@dataclass
class Plain:
    n: int
    label: str


ALL = Query.from_string("all_items", "many", "SELECT * FROM items ORDER BY n")


def test_row_factory_follows_a_changed_statement_shape(store: pgrecall.Store) -> None:
    """``SELECT *`` after ALTER TABLE: the new column reaches the model (or fails it)."""
    with store.transaction() as db:
        db.conn.execute("CREATE TEMP TABLE items (n int, label text)")
        db.conn.execute("INSERT INTO items VALUES (1, 'a'), (2, 'b')")
        assert db.many(ALL, Wide) == [Wide(n=1, label="a"), Wide(n=2, label="b")]
        assert db.many(ALL, Item) == [Item(n=1, label="a"), Item(n=2, label="b")]
        db.conn.execute("ALTER TABLE items ADD COLUMN extra int DEFAULT 7")
        assert db.many(ALL, Wide) == [Wide(n=1, label="a", extra=7), Wide(n=2, label="b", extra=7)]
        # Item forbids nothing extra by default: the new column is ignored by pydantic,
        # but a model that forbids it must fail rather than be built from stale names.
        with db.transaction(), pytest.raises(ValidationError, match="does not fit"):
            db.many(ALL, _Strict)
        db.conn.execute("ALTER TABLE items DROP COLUMN label")
        with db.transaction(), pytest.raises(ValidationError, match="does not fit"):
            db.many(ALL, Wide)


class _Strict(BaseModel, extra="forbid"):
    n: int
    label: str


def test_same_model_different_column_orders(store: pgrecall.Store) -> None:
    a = Query.from_string("a", "one", "SELECT 1 AS n, 'x' AS label")
    b = Query.from_string("b", "one", "SELECT 'y' AS label, 2 AS n")
    with store.connection() as db:
        for _ in range(3):  # alternate: the factory's last-shape shortcut must not stick
            assert db.one(a, Item) == Item(n=1, label="x")
            assert db.one(b, Item) == Item(n=2, label="y")


def test_plain_class_and_non_ascii_column_names(store: pgrecall.Store) -> None:
    q = Query.from_string("p", "one", "SELECT 3 AS n, 'z' AS label")
    u = Query.from_string("u", "one", 'SELECT 4 AS n, \'é\' AS "label", 5 AS "größe"')

    class Sized(BaseModel):
        n: int
        label: str
        größe: int

    with store.connection() as db:
        assert db.one(q, Plain) == Plain(n=3, label="z")
        assert db.one(u, Sized) == Sized(n=4, label="é", größe=5)
        assert db.one(u, Sized) == Sized(n=4, label="é", größe=5)


def test_model_row_on_a_plain_cursor_and_a_statement_without_rows(store: pgrecall.Store) -> None:
    factory = model_row(Item)
    assert model_row(Item) is factory  # built once per class
    with store.connection() as db, db.conn.cursor(row_factory=factory) as cur:
        cur.execute("SELECT 1 AS n, 'one' AS label UNION ALL SELECT 2, 'two'")
        assert cur.fetchall() == [Item(n=1, label="one"), Item(n=2, label="two")]
        cur.execute("CREATE TEMP TABLE nothing_here (n int)")
        with pytest.raises(psycopg.ProgrammingError):
            cur.fetchone()


async def test_async_runner_maps_rows_the_same(astore: pgrecall.AsyncStore) -> None:
    q = Query.from_string(
        "p", "many", "SELECT g AS n, 'x' || g AS label FROM generate_series(1, 3) g"
    )
    async with astore.connection() as db:
        assert await db.many(q, Item) == [Item(n=i, label=f"x{i}") for i in (1, 2, 3)]
