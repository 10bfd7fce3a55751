"""``s.kv``: byte values under string keys, per namespace (table ``pgrecall.kv``).

The store behind the framework adapters' key-value stores (LangChain ``BaseStore``,
LlamaIndex KV store); logged and replicated, nothing expires (for a TTL cache see
``s.cache``). Keys sort in byte order (collation "C"): ``keys`` / ``items`` /
``yield_keys`` walk them in that order, optionally under a prefix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence

from ..errors import ValidationError
from ..models.kv import KVEntry, KVKey
from ._base_async import AsyncArea
from .validate import (
    check_limit,
    check_seq,
    check_text,
)

__all__ = ["MAX_KEYS", "MAX_KEY_BYTES", "MAX_VALUE", "AsyncKV", "prefix_range"]

MAX_NAMESPACE = 200
MAX_KEY_BYTES = 2000  # UTF-8 bytes: a b-tree entry must fit in a third of a page
MAX_KEYS = 100_000  # keys in one call
MAX_VALUE = 64 * 1024 * 1024  # bytes in one value
_MAX_CHAR = 0x10FFFF


def _namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not namespace:
        raise ValidationError("namespace must be non-empty text")
    return check_text(namespace, "namespace", max_len=MAX_NAMESPACE)


def _key(key: str, what: str = "key") -> str:
    if not isinstance(key, str):
        raise ValidationError(f"{what} must be text, not {type(key).__name__}")
    check_text(key, what)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValidationError(f"{what} is longer than {MAX_KEY_BYTES} bytes (UTF-8)")
    return key


def _keys(keys: Iterable[str]) -> list[str]:
    if isinstance(keys, str):
        raise ValidationError("keys must be a list of keys, not one string")
    checked = [_key(k, "keys[]") for k in check_seq(keys, "keys")]
    if len(checked) > MAX_KEYS:
        raise ValidationError(f"at most {MAX_KEYS} keys per call")
    return checked


def _value(value: bytes | bytearray | memoryview, key: str) -> bytes:
    if isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    if not isinstance(value, bytes):
        raise ValidationError(f"value of {key!r} must be bytes, not {type(value).__name__}")
    if len(value) > MAX_VALUE:
        raise ValidationError(f"value of {key!r} is larger than {MAX_VALUE} bytes")
    return value


def prefix_range(prefix: str | None) -> tuple[str | None, str | None]:
    """The keys starting with ``prefix`` as a range ``[lo, hi)`` in code point order
    (= byte order of UTF-8, collation "C"); ``hi`` None = unbounded."""
    if not prefix:
        return None, None
    stem = prefix
    while stem:
        last = ord(stem[-1])
        if last < _MAX_CHAR:
            nxt = last + 1 if not 0xD800 <= last + 1 <= 0xDFFF else 0xE000  # skip surrogates
            return prefix, stem[:-1] + chr(nxt)
        stem = stem[:-1]
    return prefix, None


class AsyncKV(AsyncArea):
    async def mget(self, namespace: str, keys: Sequence[str]) -> list[bytes | None]:
        """The values of ``keys``, in that order (``None`` for a missing key)."""
        keys = _keys(keys)
        if not keys:
            return []
        rows = await self.db.many(
            self.q.kv_get_many,
            KVEntry,
            tenant_id=self.t,
            namespace=_namespace(namespace),
            keys=list(set(keys)),
        )
        found = {r.key: r.value for r in rows}
        return [found.get(k) for k in keys]

    async def get(self, namespace: str, key: str) -> bytes | None:
        return (await self.mget(namespace, [key]))[0]

    async def mset(
        self, namespace: str, items: Iterable[tuple[str, bytes | bytearray | memoryview]]
    ) -> None:
        """Set every ``(key, value)``; a key given twice takes its last value."""
        values: dict[str, bytes] = {}
        for pair in check_seq(items, "items"):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValidationError("items must be (key, value) pairs")
            key = _key(pair[0])
            values[key] = _value(pair[1], key)
        if len(values) > MAX_KEYS:
            raise ValidationError(f"at most {MAX_KEYS} keys per call")
        if not values:
            return
        await self.db.execute(
            self.q.kv_set_many,
            tenant_id=self.t,
            namespace=_namespace(namespace),
            keys=list(values),
            values=list(values.values()),
        )

    async def set(self, namespace: str, key: str, value: bytes | bytearray | memoryview) -> None:
        await self.mset(namespace, [(key, value)])

    async def mdelete(self, namespace: str, keys: Sequence[str]) -> int:
        """Delete ``keys`` (absent ones are ignored); returns how many were deleted."""
        keys = _keys(keys)
        if not keys:
            return 0
        return await self.db.execute(
            self.q.kv_delete_many, tenant_id=self.t, namespace=_namespace(namespace), keys=keys
        )

    async def keys(
        self,
        namespace: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 1000,
    ) -> list[str]:
        """A page of keys in byte order: those starting with ``prefix``, after ``after``."""
        page = self._page(namespace, prefix, after, limit)
        rows = await self.db.many(self.q.kv_keys, KVKey, **page)
        return [r.key for r in rows]

    async def items(
        self,
        namespace: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 1000,
    ) -> list[KVEntry]:
        """A page of entries in key order (as :meth:`keys`)."""
        return await self.db.many(
            self.q.kv_items, KVEntry, **self._page(namespace, prefix, after, limit)
        )

    async def yield_keys(
        self, namespace: str, *, prefix: str | None = None, page: int = 1000
    ) -> AsyncIterator[str]:
        """Every key (starting with ``prefix``) in byte order, a page at a time."""
        after: str | None = None
        while True:
            found = await self.keys(namespace, prefix=prefix, after=after, limit=page)
            for key in found:
                yield key
            if len(found) < page:
                return
            after = found[-1]

    def _page(
        self, namespace: str, prefix: str | None, after: str | None, limit: int
    ) -> dict[str, object]:
        lo, hi = prefix_range(None if prefix is None else _key(prefix, "prefix"))
        return dict(
            tenant_id=self.t,
            namespace=_namespace(namespace),
            lo=lo,
            hi=hi,
            after=None if after is None else _key(after, "after"),
            limit=check_limit(limit, 100_000),
        )
