"""Cache: get / set with TTL, get-or-set, prefix delete, hit counts, purge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

import pgrecall
from pgrecall import ValidationError
from pgrecall.areas.cache import like_prefix

Q_EXPIRE = pgrecall.Query.from_string(
    "expire",
    "exec",
    "UPDATE pgrecall.cache SET expires_at = now() - interval '1 second' WHERE key = :key",
)
Q_UNLOGGED = pgrecall.Query.from_string(
    "persistence",
    "scalar",
    "SELECT relpersistence::text FROM pg_class WHERE oid = 'pgrecall.cache'::regclass",
)


def test_set_get_ttl_and_hits(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        assert s.db.scalar(Q_UNLOGGED, str) == "u"  # UNLOGGED
        entry = s.cache.set("answer:1", {"text": "hi", "n": [1, 2]}, ttl=60)
        assert entry.expires_at is not None and entry.hits == 0
        assert s.cache.get("answer:1") == {"text": "hi", "n": [1, 2]}
        assert s.cache.get("answer:1") is not None
        hit = s.cache.get_entry("answer:1")
        assert hit is not None and hit.hits == 3 and hit.last_hit_at is not None
        assert s.cache.get("missing", default="d") == "d"
        s.cache.set("forever", "v")
        assert s.cache.peek("forever") is not None
        assert s.cache.peek("forever").expires_at is None  # type: ignore[union-attr]
        s.cache.set("null", None, ttl=timedelta(minutes=1))  # JSON null is a value
        assert s.cache.get_entry("null") is not None
        s.db.execute(Q_EXPIRE, key="answer:1")
        assert s.cache.get("answer:1") is None  # expired: invisible
        assert s.cache.peek("answer:1") is not None  # but still there until purged
        assert s.cache.stats().expired == 1
        assert s.cache.purge_expired() == 1
        assert s.cache.peek("answer:1") is None
        assert s.cache.set("forever", 2).hits == 0  # set replaces and resets hits
    with store.session(tenant="other") as s:
        assert s.cache.get("forever") is None  # tenant-scoped


def test_get_or_set_and_add(store: pgrecall.Store) -> None:
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"v": len(calls)}

    with store.session(tenant="acme") as s:
        assert s.cache.get_or_set("k", compute, ttl=60) == {"v": 1}
        assert s.cache.get_or_set("k", compute, ttl=60) == {"v": 1}
        assert len(calls) == 1
        assert s.cache.add("k", "other") is False
        s.db.execute(Q_EXPIRE, key="k")
        assert s.cache.add("k", "fresh", ttl=60) is True  # an expired entry is replaced
        assert s.cache.get("k") == "fresh"


def test_delete_and_prefix(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        for key in ("user:1:a", "user:1:b", "user:10:a", "user:2:a", "user_1", "user%1"):
            s.cache.set(key, 1)
        assert s.cache.delete_prefix("user:1:") == 2
        assert s.cache.delete_prefix("user%") == 1  # LIKE wildcards are literal
        assert s.cache.delete("user_1") is True and s.cache.delete("user_1") is False
        assert s.cache.stats().entries == 2
    assert like_prefix("a_b%c\\") == "a\\_b\\%c\\\\%"


def test_bad_input(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        for kwargs, error in (
            ({"key": "", "value": 1}, "key"),
            ({"key": "k\x00", "value": 1}, "NUL"),
            ({"key": "k", "value": float("inf")}, "inf"),
            ({"key": "k", "value": 1, "ttl": 0}, "ttl"),
            ({"key": "k", "value": 1, "ttl": -5}, "ttl"),
        ):
            with pytest.raises(ValidationError, match=error):
                s.cache.set(**kwargs)  # type: ignore[arg-type]


def test_concurrent_readers_never_wait_for_a_hit_counter(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.cache.set("hot", "v")
    done = threading.Event()
    with store.session(tenant="acme") as holder:
        assert holder.cache.get("hot") == "v"  # holds the counter row lock

        def reader() -> None:
            with store.session(tenant="acme") as s:
                assert s.cache.get("hot") == "v"
            done.set()

        t = threading.Thread(target=reader)
        t.start()
        assert done.wait(5), "a cache read waited for another transaction's lock"
        t.join()
    with store.session(tenant="acme") as s:
        entry = s.cache.peek("hot")
        assert entry is not None and entry.hits in (1, 2)


async def test_async_get_or_set(astore: pgrecall.AsyncStore) -> None:
    async def compute() -> str:
        return "computed"

    async with astore.session(tenant="acme") as s:
        assert await s.cache.get_or_set("a", compute, ttl=5) == "computed"
        assert await s.cache.get("a") == "computed"
