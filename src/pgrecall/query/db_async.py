"""Run named queries on one connection: typed results, translated errors.

This is the async source; ``_db.py`` is generated from it by
``tools/async_to_sync.py`` (``make generate``) and checked by a test.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Hashable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any, TypeVar, cast

import psycopg
import pydantic
from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg.rows import BaseRowFactory, RowMaker, scalar_row

from ..errors import NotFoundError, ValidationError, translate
from .named import Kind, Query, QueryError

__all__ = ["AsyncDB", "model_row"]

T = TypeVar("T")
logger = logging.getLogger("pgrecall.sql")
_COPY_TARGET = re.compile(
    r"^\s*copy\s+(?P<table>[\w.\"]+)\s*\((?P<cols>[^)]*)\)\s+from\s+stdin", re.I | re.S
)


def model_row(cls: type[T]) -> BaseRowFactory[T]:
    """A psycopg row factory building ``cls`` from each row's columns by name.

    For a pydantic model the row goes straight to its compiled validator (no
    ``__init__`` keyword packing); any other class is called with the columns as
    keyword arguments, like psycopg's ``class_row``.

    The column names are read once per result, from the raw result (``fname``),
    not from ``cursor.description`` (which builds a ``Column`` object per column
    on every call); the row maker for a set of names is built once and reused, so
    a statement whose columns change (``SELECT *`` after ``ALTER TABLE``) gets a
    maker for its new names.
    """
    factory: BaseRowFactory[T] = _model_row(cast(Hashable, cls))
    _FACTORIES[cls] = factory
    return factory


_FACTORIES: dict[Any, BaseRowFactory[Any]] = {}  # model_row by class: one lookup per call


_MAX_SHAPES = 256  # row makers cached per class; a class sees a handful of shapes


@cache
def _model_row(cls: Any) -> BaseRowFactory[Any]:
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        validate = cls.__pydantic_validator__.validate_python

        def build(names: tuple[str, ...]) -> RowMaker[Any]:
            return lambda values: validate(dict(zip(names, values, strict=False)))

    else:

        def build(names: tuple[str, ...]) -> RowMaker[Any]:
            return lambda values: cls(**dict(zip(names, values, strict=False)))

    # names and values come from one result: zip(strict=False) never drops a column
    makers: dict[tuple[bytes | None, ...], RowMaker[Any]] = {}
    last: list[Any] = [None, None]  # the shape seen last: compared before any hashing

    def factory(cursor: Any) -> RowMaker[Any]:
        res = cursor.pgresult
        if res is None:
            return _no_row
        key = tuple([res.fname(i) for i in range(res.nfields)])
        seen = last[0], last[1]
        if key == seen[0]:
            return cast(RowMaker[Any], seen[1])
        make = makers.get(key)
        if make is None:
            make = build(_decode(key, cursor))
            if not _ascii(key):  # other bytes decode per connection encoding: not cached
                return make
            if len(makers) >= _MAX_SHAPES:
                makers.clear()
            makers[key] = make
        last[:] = key, make
        return make

    return factory


def _ascii(key: tuple[bytes | None, ...]) -> bool:
    return all(name is None or name.isascii() for name in key)


def _decode(key: tuple[bytes | None, ...], cursor: Any) -> tuple[str, ...]:
    encoding = cursor.connection.info.encoding
    return tuple("" if name is None else name.decode(encoding) for name in key)


def _no_row(values: Sequence[Any]) -> Any:
    raise psycopg.ProgrammingError("the statement returned no result")


def _expect(query: Query, *kinds: Kind) -> None:
    if query.kind not in kinds:
        want = " or ".join(":" + k.value for k in kinds)
        raise QueryError(f"{query.where}: {query.name} is :{query.kind.value}, not {want}")


class AsyncDB:
    """A connection that runs :class:`~pgrecall.query.named.Query` objects.

    Obtained from ``store.connection()`` / ``store.transaction()``, or wrapped around
    any psycopg connection: ``AsyncDB(conn)``.
    """

    def __init__(self, conn: AsyncConnection[Any], *, echo: bool = False) -> None:
        self.conn = conn
        self.echo = echo

    async def _cursor(self, cur: AsyncCursor[Any], query: Query, params: Mapping[str, Any]) -> None:
        if self.echo:
            logger.debug("%s %s", query.name, dict(params))
        try:
            await cur.execute(query.sql, query.bind(params) or None)
        except psycopg.Error as exc:
            raise translate(exc) from exc

    async def one(self, query: Query, row: type[T], /, **params: Any) -> T | None:
        """The first row mapped to ``row`` (a pydantic model or class), or ``None``."""
        if query.kind is not Kind.ONE:
            _expect(query, Kind.ONE)
        factory = _FACTORIES.get(row) or model_row(row)
        async with self.conn.cursor(row_factory=factory) as cur:
            await self._cursor(cur, query, params)
            try:
                return await cur.fetchone()
            except (pydantic.ValidationError, psycopg.Error) as exc:
                raise _fetch_error(query, exc) from exc

    async def get(self, query: Query, row: type[T], /, **params: Any) -> T:
        """Like :meth:`one` but raises :class:`NotFoundError` when there is no row."""
        found = await self.one(query, row, **params)
        if found is None:
            detail = ", ".join(f"{k}={v!r}" for k, v in params.items() if k != "tenant_id")
            raise NotFoundError(f"{query.name}: no row for {detail}")
        return found

    async def many(self, query: Query, row: type[T], /, **params: Any) -> list[T]:
        """Every row mapped to ``row``."""
        if query.kind is not Kind.MANY:
            _expect(query, Kind.MANY)
        factory = _FACTORIES.get(row) or model_row(row)
        async with self.conn.cursor(row_factory=factory) as cur:
            await self._cursor(cur, query, params)
            try:
                return await cur.fetchall()
            except (pydantic.ValidationError, psycopg.Error) as exc:
                raise _fetch_error(query, exc) from exc

    async def scalar(self, query: Query, typ: type[T], /, **params: Any) -> T:
        """The first column of the first row; a missing row or NULL is an error."""
        value = await self.scalar_or_none(query, typ, **params)
        if value is None:
            raise NotFoundError(f"{query.name}: returned no value")
        return value

    async def scalar_or_none(self, query: Query, typ: type[T], /, **params: Any) -> T | None:
        """The first column of the first row, ``None`` for no row or NULL."""
        _expect(query, Kind.SCALAR)
        async with self.conn.cursor(row_factory=scalar_row) as cur:
            await self._cursor(cur, query, params)
            value = await cur.fetchone()
        if value is not None and isinstance(typ, type) and not isinstance(value, typ):
            raise ValidationError(
                f"{query.name}: returned {type(value).__name__}, expected {typ.__name__}"
            )
        return value

    async def execute(self, query: Query, /, **params: Any) -> int:
        """Run an ``:exec`` statement; returns the row count."""
        _expect(query, Kind.EXEC)
        async with self.conn.cursor() as cur:
            await self._cursor(cur, query, params)
            return cur.rowcount

    async def run(self, statement: sql.Composed, params: Sequence[Any] | None = None) -> int:
        """Run a composed statement (not a named query: the Citus bulk inserts); row count."""
        try:
            cur = await self.conn.execute(statement, params)
        except psycopg.Error as exc:
            raise translate(exc) from exc
        return cur.rowcount

    async def stream(
        self, query: Query, row: type[T], /, *, batch: int = 1000, **params: Any
    ) -> AsyncIterator[T]:
        """Iterate a ``:many`` query through a server-side cursor (constant memory).

        Must run inside a transaction (``store.transaction()``) or the cursor is
        WITH HOLD for the duration of the iteration.
        """
        _expect(query, Kind.MANY)
        name = f"pgrecall_{query.name}"
        cur = self.conn.cursor(name, row_factory=model_row(row), withhold=self._outside_tx())
        try:
            cur.itersize = batch
            await self._cursor(cur, query, params)
            try:
                async for item in cur:
                    yield item
            except (pydantic.ValidationError, psycopg.Error) as exc:
                raise _fetch_error(query, exc) from exc
        finally:
            await cur.close()

    def _outside_tx(self) -> bool:
        return self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    async def copy(self, query: Query, rows: Iterable[Sequence[Any]]) -> int:
        """Run a ``:copy`` statement (``COPY t (cols) FROM STDIN``), feeding ``rows``.

        With ``(FORMAT BINARY)`` the column types are read from the catalog once.
        PostgreSQL refuses ``COPY FROM`` into a table with row level security: copy into
        a temporary table and move the rows with ``INSERT ... SELECT`` (as
        ``s.embeddings.add_many`` does).
        """
        _expect(query, Kind.COPY)
        types = await self._copy_types(query) if b"binary" in query.sql.lower() else None
        count = 0
        try:
            async with self.conn.cursor() as cur, cur.copy(query.sql) as cp:
                if types:
                    cp.set_types(types)
                for record in rows:
                    await cp.write_row(record)
                    count += 1
        except psycopg.Error as exc:
            raise translate(exc) from exc
        return count

    async def _copy_types(self, query: Query) -> list[str]:
        m = _COPY_TARGET.match(query.source)
        if not m:
            raise QueryError(f"{query.where}: {query.name}: binary COPY needs a column list")
        cols = [c.strip().strip('"') for c in m.group("cols").split(",")]
        async with self.conn.cursor() as cur:
            await cur.execute(
                "SELECT a.attname, format_type(a.atttypid, NULL)"
                " FROM pg_attribute a WHERE a.attrelid = %s::regclass"
                " AND a.attnum > 0 AND NOT a.attisdropped",
                (m.group("table"),),
            )
            found = dict(await cur.fetchall())
        missing = [c for c in cols if c not in found]
        if missing:
            raise QueryError(f"{query.where}: {query.name}: no column(s) {', '.join(missing)}")
        return [found[c] for c in cols]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncDB]:
        """A transaction (a savepoint when one is already open)."""
        try:
            async with self.conn.transaction():
                yield self
        except psycopg.Error as exc:
            raise translate(exc) from exc


def _fetch_error(query: Query, exc: Exception) -> Exception:
    """The pgrecall error for a driver or model error raised fetching ``query``'s rows."""
    if isinstance(exc, pydantic.ValidationError):
        return ValidationError(f"{query.name}: row does not fit its model: {exc}")
    assert isinstance(exc, psycopg.Error)
    return translate(exc)
