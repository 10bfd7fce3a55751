"""One tenant of a :class:`~pgrecall.Store` or :class:`~pgrecall.AsyncStore`, for the
adapters: sync methods need a ``Store``; async methods run natively on an ``AsyncStore``
and in a worker thread on a ``Store``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ...errors import ConfigurationError
from ...session import Session
from ...session_async import AsyncSession
from ...store import Store
from ...store_async import AsyncStore

__all__ = ["Backend"]

T = TypeVar("T")


class Backend:
    def __init__(self, store: Store | AsyncStore, tenant: str) -> None:
        if not isinstance(store, Store | AsyncStore):
            raise ConfigurationError(
                f"expected a pgrecall Store or AsyncStore, not {type(store).__name__}"
            )
        self.store = store
        self.tenant = tenant

    def call(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in one session (one transaction) of a sync store."""
        if not isinstance(self.store, Store):
            raise ConfigurationError(
                "this adapter was built on an AsyncStore: use its async methods "
                "(or build it on a pgrecall.Store for the sync ones)"
            )
        with self.store.session(tenant=self.tenant) as s:
            return fn(s)

    async def acall(
        self, fn: Callable[[Session], T], afn: Callable[[AsyncSession], Awaitable[T]]
    ) -> T:
        """Run ``afn`` on an AsyncStore, or ``fn`` in a worker thread on a Store."""
        if isinstance(self.store, AsyncStore):
            async with self.store.session(tenant=self.tenant) as s:
                return await afn(s)
        return await asyncio.to_thread(self.call, fn)
