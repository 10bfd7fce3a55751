"""``PgRecallKVStore``: LlamaIndex's ``BaseKVStore`` on pgrecall's key-value area (``s.kv``).

A collection is a kv namespace (``<namespace_prefix><collection>``), a value is its JSON
(UTF-8 bytes). LlamaIndex's document store and index store run on it::

    docstore = KVDocumentStore(PgRecallKVStore(store, tenant="acme"))
    index_store = KVIndexStore(PgRecallKVStore(store, tenant="acme"))
"""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.storage.kvstore.types import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_COLLECTION,
    BaseKVStore,
)

from ...errors import ValidationError
from ...session import Session
from ...session_async import AsyncSession
from ...store import Store
from ...store_async import AsyncStore
from ._backend import Backend

__all__ = ["PgRecallKVStore"]

PAGE = 1000
WRITE_BATCH = 10_000  # keys per statement of put_all (all in one transaction)


def _dump(val: dict[str, Any]) -> bytes:
    if not isinstance(val, dict):
        raise ValidationError(f"a kv value must be a dict, not {type(val).__name__}")
    return json.dumps(val, ensure_ascii=False, allow_nan=False).encode()


def _load(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    value: dict[str, Any] = json.loads(raw)
    return value


def _put(s: Session, ns: str, items: list[tuple[str, bytes]]) -> None:
    for i in range(0, len(items), WRITE_BATCH):
        s.kv.mset(ns, items[i : i + WRITE_BATCH])


async def _aput(s: AsyncSession, ns: str, items: list[tuple[str, bytes]]) -> None:
    for i in range(0, len(items), WRITE_BATCH):
        await s.kv.mset(ns, items[i : i + WRITE_BATCH])


def _all(s: Session, ns: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    after: str | None = None
    while page := s.kv.items(ns, after=after, limit=PAGE):
        out.update((e.key, json.loads(e.value)) for e in page)
        if len(page) < PAGE:
            break
        after = page[-1].key
    return out


async def _aall(s: AsyncSession, ns: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    after: str | None = None
    while page := await s.kv.items(ns, after=after, limit=PAGE):
        out.update((e.key, json.loads(e.value)) for e in page)
        if len(page) < PAGE:
            break
        after = page[-1].key
    return out


class PgRecallKVStore(BaseKVStore):
    """Key-value store of one tenant: ``put`` / ``get`` / ``get_all`` / ``delete`` (and
    their async twins) per collection; ``put_all`` writes in one transaction, 10,000 keys
    a statement (LlamaIndex's ``batch_size`` is not needed)."""

    def __init__(
        self, store: Store | AsyncStore, *, tenant: str, namespace_prefix: str = "llama_index/"
    ) -> None:
        self._backend = Backend(store, tenant)
        self.namespace_prefix = namespace_prefix

    def _ns(self, collection: str) -> str:
        return f"{self.namespace_prefix}{collection}"

    def put(self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION) -> None:
        self.put_all([(key, val)], collection=collection)

    async def aput(
        self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION
    ) -> None:
        await self.aput_all([(key, val)], collection=collection)

    def put_all(
        self,
        kv_pairs: list[tuple[str, dict[str, Any]]],
        collection: str = DEFAULT_COLLECTION,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        items = [(k, _dump(v)) for k, v in kv_pairs]
        ns = self._ns(collection)
        self._backend.call(lambda s: _put(s, ns, items))

    async def aput_all(
        self,
        kv_pairs: list[tuple[str, dict[str, Any]]],
        collection: str = DEFAULT_COLLECTION,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        items = [(k, _dump(v)) for k, v in kv_pairs]
        ns = self._ns(collection)
        await self._backend.acall(lambda s: _put(s, ns, items), lambda s: _aput(s, ns, items))

    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        ns = self._ns(collection)
        return _load(self._backend.call(lambda s: s.kv.get(ns, key)))

    async def aget(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        ns = self._ns(collection)
        return _load(
            await self._backend.acall(lambda s: s.kv.get(ns, key), lambda s: s.kv.get(ns, key))
        )

    def get_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        ns = self._ns(collection)
        return self._backend.call(lambda s: _all(s, ns))

    async def aget_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        ns = self._ns(collection)
        return await self._backend.acall(lambda s: _all(s, ns), lambda s: _aall(s, ns))

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        ns = self._ns(collection)
        return self._backend.call(lambda s: s.kv.mdelete(ns, [key])) > 0

    async def adelete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        ns = self._ns(collection)
        deleted = await self._backend.acall(
            lambda s: s.kv.mdelete(ns, [key]), lambda s: s.kv.mdelete(ns, [key])
        )
        return deleted > 0
