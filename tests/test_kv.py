"""s.kv: byte values per namespace -- mget / mset / mdelete, key order, prefixes, paging,
tenant isolation (RLS as the app role), validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgrecall
from pgrecall import ValidationError
from pgrecall.areas.kv_async import prefix_range


def test_mset_mget_mdelete(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        assert s.kv.mget("ns", ["a", "b"]) == [None, None]
        s.kv.mset("ns", [("a", b"1"), ("b", b"\x00\xff"), ("a", b"2")])  # last wins
        assert s.kv.mget("ns", ["a", "b", "a", "c"]) == [b"2", b"\x00\xff", b"2", None]
        assert s.kv.get("other-ns", "a") is None  # namespaces are apart
        s.kv.set("ns", "b", bytearray(b"new"))
        assert s.kv.get("ns", "b") == b"new"
        assert s.kv.mdelete("ns", ["a", "zzz"]) == 1
        assert s.kv.mget("ns", ["a", "b"]) == [None, b"new"]
        assert s.kv.mget("ns", []) == [] and s.kv.mdelete("ns", []) == 0
        s.kv.mset("ns", [])
    with store.session(tenant="other") as s:
        assert s.kv.get("ns", "b") is None


def test_unchanged_value_is_not_rewritten(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        s.kv.set("ns", "k", b"v")
        (first,) = s.kv.items("ns")
    with store.session(tenant="acme") as s:
        s.kv.set("ns", "k", b"v")
        (same,) = s.kv.items("ns")
        s.kv.set("ns", "k", b"w")
        (changed,) = s.kv.items("ns")
    assert same.updated_at == first.updated_at
    assert changed.updated_at > first.updated_at and changed.value == b"w"


def test_keys_in_byte_order_with_prefix_and_paging(store: pgrecall.Store) -> None:
    keys = ["a", "a%", "a_b", "ab", "abc", "b", "Z", "é", "\U0001f600", "a\U0010ffff"]
    with store.session(tenant="acme") as s:
        s.kv.mset("ns", [(k, k.encode()) for k in keys])
        assert s.kv.keys("ns") == sorted(keys, key=lambda k: k.encode())
        assert s.kv.keys("ns", prefix="a") == sorted(k for k in keys if k.startswith("a"))
        assert s.kv.keys("ns", prefix="a_") == ["a_b"]  # no LIKE wildcards
        assert s.kv.keys("ns", prefix="a%") == ["a%"]
        assert s.kv.keys("ns", prefix="ab") == ["ab", "abc"]
        assert s.kv.keys("ns", prefix="nope") == []
        assert s.kv.keys("ns", limit=2) == ["Z", "a"]
        assert s.kv.keys("ns", after="a", limit=2) == ["a%", "a_b"]
        assert list(s.kv.yield_keys("ns", prefix="a", page=2)) == s.kv.keys("ns", prefix="a")
        assert [e.value for e in s.kv.items("ns", prefix="ab")] == [b"ab", b"abc"]


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=4), st.text(max_size=4))
def test_prefix_range_is_exact(prefix: str, key: str) -> None:
    if any("\ud800" <= c <= "\udfff" for c in prefix + key):
        return  # not valid UTF-8: refused before any query
    lo, hi = prefix_range(prefix)
    in_range = lo is not None and key >= lo and (hi is None or key < hi)
    assert in_range == key.startswith(prefix), (prefix, key)


def test_rls_isolates_tenants_for_the_app_role(app_store: pgrecall.Store) -> None:
    with app_store.session(tenant="t1") as s:
        s.kv.set("ns", "k", b"one")
    with app_store.session(tenant="t2") as s:
        assert s.kv.get("ns", "k") is None and s.kv.keys("ns") == []
        s.kv.set("ns", "k", b"two")
    with app_store.session(tenant="t1") as s:
        assert s.kv.get("ns", "k") == b"one"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.kv.mget("", ["k"]), "namespace"),
        (lambda s: s.kv.mget("ns", "abc"), "not one string"),
        (lambda s: s.kv.set("ns", "k\x00", b"v"), "NUL"),
        (lambda s: s.kv.set("ns", "é" * 1001, b"v"), "bytes"),
        (lambda s: s.kv.set("ns", "k", "text"), "must be bytes"),
        (lambda s: s.kv.mset("ns", [("k",)]), "pairs"),
        (lambda s: s.kv.keys("ns", limit=0), "limit"),
    ],
    ids=["empty-namespace", "str-keys", "nul", "long-key", "str-value", "pair", "limit"],
)
def test_validation(store: pgrecall.Store, call: object, message: str) -> None:
    with store.session(tenant="acme") as s, pytest.raises(ValidationError, match=message):
        call(s)  # type: ignore[operator]


async def test_async_twin(astore: pgrecall.AsyncStore) -> None:
    async with astore.session(tenant="acme") as s:
        await s.kv.mset("ns", [("x1", b"1"), ("x2", b"2"), ("y", b"3")])
        assert await s.kv.mget("ns", ["x2", "x1"]) == [b"2", b"1"]
        assert [k async for k in s.kv.yield_keys("ns", prefix="x")] == ["x1", "x2"]
        assert await s.kv.mdelete("ns", ["x1", "x2"]) == 2
