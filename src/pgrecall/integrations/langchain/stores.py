"""``PgRecallByteStore`` (a LangChain ``BaseStore[str, bytes]`` on ``pgrecall.kv``) and
``PgRecallCache`` (a LangChain LLM ``BaseCache`` on pgrecall's UNLOGGED cache)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.stores import BaseStore

from pgrecall.errors import ValidationError

from . import _ops, _ops_async
from ._run import AnyStore, Runner

__all__ = ["PgRecallByteStore", "PgRecallCache"]

KEY_PAGE = 1000


class PgRecallByteStore(BaseStore[str, bytes]):
    """Byte values under string keys, in ``namespace`` of ``tenant`` (table ``pgrecall.kv``).

    For LangChain's parent-document retriever, ``CacheBackedEmbeddings`` and the like.
    ``yield_keys(prefix=...)`` walks the keys in byte order, a page per transaction, so
    a long walk holds no transaction open.
    """

    def __init__(self, store: AnyStore, *, tenant: str, namespace: str = "langchain") -> None:
        self._run = Runner(store, tenant)
        if not isinstance(namespace, str) or not namespace:
            raise ValidationError("namespace must be non-empty text")
        self.namespace = namespace

    def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        keys = list(keys)
        return self._run.run(lambda s: _ops.kv_mget(s, self.namespace, keys), read_only=True)

    async def amget(self, keys: Sequence[str]) -> list[bytes | None]:
        ns, keys = self.namespace, list(keys)
        return await self._run.arun(
            lambda s: _ops_async.kv_mget(s, ns, keys),
            lambda s: _ops.kv_mget(s, ns, keys),
            read_only=True,
        )

    def mset(self, key_value_pairs: Sequence[tuple[str, bytes]]) -> None:
        """Set the values (a key given twice takes its last value), all in one transaction."""
        items = list(key_value_pairs)
        self._run.run(lambda s: _ops.kv_mset(s, self.namespace, items))

    async def amset(self, key_value_pairs: Sequence[tuple[str, bytes]]) -> None:
        ns, items = self.namespace, list(key_value_pairs)
        await self._run.arun(
            lambda s: _ops_async.kv_mset(s, ns, items), lambda s: _ops.kv_mset(s, ns, items)
        )

    def mdelete(self, keys: Sequence[str]) -> None:
        keys = list(keys)
        self._run.run(lambda s: _ops.kv_mdelete(s, self.namespace, keys))

    async def amdelete(self, keys: Sequence[str]) -> None:
        ns, keys = self.namespace, list(keys)
        await self._run.arun(
            lambda s: _ops_async.kv_mdelete(s, ns, keys), lambda s: _ops.kv_mdelete(s, ns, keys)
        )

    def _page(self, prefix: str | None, after: str | None) -> list[str]:
        ns = self.namespace
        return self._run.run(
            lambda s: _ops.kv_keys(s, ns, prefix, after, KEY_PAGE), read_only=True
        )

    async def _apage(self, prefix: str | None, after: str | None) -> list[str]:
        ns = self.namespace
        return await self._run.arun(
            lambda s: _ops_async.kv_keys(s, ns, prefix, after, KEY_PAGE),
            lambda s: _ops.kv_keys(s, ns, prefix, after, KEY_PAGE),
            read_only=True,
        )

    def yield_keys(self, *, prefix: str | None = None) -> Iterator[str]:
        """The keys (starting with ``prefix``), in byte order."""
        page = self._page(prefix, None)
        yield from page
        while len(page) == KEY_PAGE:
            page = self._page(prefix, page[-1])
            yield from page

    async def ayield_keys(self, *, prefix: str | None = None) -> AsyncIterator[str]:
        page = await self._apage(prefix, None)
        while True:
            for key in page:
                yield key
            if len(page) < KEY_PAGE:
                return
            page = await self._apage(prefix, page[-1])


def _dump(generation: Generation) -> dict[str, Any]:
    if isinstance(generation, ChatGeneration):
        return {
            "message": message_to_dict(generation.message),
            "generation_info": generation.generation_info,
        }
    if isinstance(generation, Generation):
        return {"text": generation.text, "generation_info": generation.generation_info}
    raise ValidationError(f"not a LangChain Generation: {type(generation).__name__}")


def _load(value: Any) -> RETURN_VAL_TYPE | None:
    if not isinstance(value, list):
        return None
    out: list[Generation] = []
    for item in value:
        if "message" in item:
            message = messages_from_dict([item["message"]])[0]
            out.append(ChatGeneration(message=message, generation_info=item["generation_info"]))
        else:
            out.append(Generation(text=item["text"], generation_info=item["generation_info"]))
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class PgRecallCache(BaseCache):
    """LLM responses cached in ``pgrecall.cache`` (UNLOGGED: fast, emptied by a crash).

    The key is ``<prefix><sha256 of llm_string>:<sha256 of prompt>``; the value is the
    generations as JSON (chat generations keep their full message). ``ttl`` (seconds
    or a timedelta) makes entries expire. :meth:`clear` deletes this cache's entries
    (every key under ``prefix``) of the tenant and nothing else.
    """

    def __init__(
        self,
        store: AnyStore,
        *,
        tenant: str,
        ttl: float | timedelta | None = None,
        prefix: str = "langchain:llm:",
    ) -> None:
        self._run = Runner(store, tenant)
        if not isinstance(prefix, str) or not prefix:
            raise ValidationError("prefix must be non-empty text")
        self.ttl = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
        self.prefix = prefix

    def _key(self, prompt: str, llm_string: str) -> str:
        return f"{self.prefix}{_digest(llm_string)}:{_digest(prompt)}"

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = self._key(prompt, llm_string)
        return _load(self._run.run(lambda s: _ops.cache_lookup(s, key)))

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = self._key(prompt, llm_string)
        found = await self._run.arun(
            lambda s: _ops_async.cache_lookup(s, key), lambda s: _ops.cache_lookup(s, key)
        )
        return _load(found)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        key, value, ttl = self._key(prompt, llm_string), [_dump(g) for g in return_val], self.ttl
        self._run.run(lambda s: _ops.cache_update(s, key, value, ttl))

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        key, value, ttl = self._key(prompt, llm_string), [_dump(g) for g in return_val], self.ttl
        await self._run.arun(
            lambda s: _ops_async.cache_update(s, key, value, ttl),
            lambda s: _ops.cache_update(s, key, value, ttl),
        )

    def clear(self, **kwargs: Any) -> None:
        self._run.run(lambda s: _ops.cache_clear(s, self.prefix))

    async def aclear(self, **kwargs: Any) -> None:
        prefix = self.prefix
        await self._run.arun(
            lambda s: _ops_async.cache_clear(s, prefix), lambda s: _ops.cache_clear(s, prefix)
        )
