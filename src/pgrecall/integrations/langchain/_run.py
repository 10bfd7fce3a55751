"""One tenant session per adapter call, on a sync :class:`pgrecall.Store` or an
:class:`pgrecall.AsyncStore`.

Every adapter takes either store. With an ``AsyncStore`` the async methods are native
and the sync ones raise (there is no event loop to run them on); with a ``Store`` the
sync methods are native and the async ones run them in an executor thread, as
LangChain's own defaults do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from langchain_core.runnables.config import run_in_executor

from pgrecall import AsyncSession, AsyncStore, Session, Store
from pgrecall.errors import ConfigurationError, ValidationError

__all__ = ["AnyStore", "Runner"]

T = TypeVar("T")
AnyStore = Store | AsyncStore


class Runner:
    """Runs an operation in a session of ``tenant`` on ``store`` (sync or async)."""

    def __init__(self, store: AnyStore, tenant: str) -> None:
        if not isinstance(store, (Store, AsyncStore)):
            raise ValidationError(
                f"store must be a pgrecall.Store or pgrecall.AsyncStore, not {type(store).__name__}"
            )
        if not isinstance(tenant, str) or not tenant.strip():
            raise ValidationError("tenant must be non-empty text")
        self.store = store
        self.tenant = tenant

    @property
    def is_async(self) -> bool:
        return isinstance(self.store, AsyncStore)

    def _sync_store(self) -> Store:
        if not isinstance(self.store, Store):
            raise ConfigurationError(
                "this adapter was built on a pgrecall.AsyncStore: call its async methods "
                "(ainvoke, asimilarity_search, amget, ...) or build it on a pgrecall.Store"
            )
        return self.store

    def run(self, op: Callable[[Session], T], *, read_only: bool = False) -> T:
        """``op(session)`` in one transaction (committed when it returns); ``read_only``
        sessions run on a caught-up replica when the store has replicas."""
        with self._sync_store().session(self.tenant, read_only=read_only) as s:
            return op(s)

    async def arun(
        self,
        aop: Callable[[AsyncSession], Awaitable[T]],
        op: Callable[[Session], T],
        *,
        read_only: bool = False,
    ) -> T:
        """``aop(session)`` natively on an AsyncStore, else ``op`` in an executor thread."""
        if isinstance(self.store, AsyncStore):
            async with self.store.session(self.tenant, read_only=read_only) as s:
                return await aop(s)
        return await run_in_executor(None, self.run, op, read_only=read_only)

    def call(self, fn: Callable[[Store], T]) -> T:
        """``fn(store)``: a store-level call (e.g. ``append_message``, one round trip)."""
        return fn(self._sync_store())

    async def acall(
        self, afn: Callable[[AsyncStore], Awaitable[T]], fn: Callable[[Store], T]
    ) -> T:
        if isinstance(self.store, AsyncStore):
            return await afn(self.store)
        return await run_in_executor(None, self.call, fn)
