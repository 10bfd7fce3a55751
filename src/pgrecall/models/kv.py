"""Row models of the key-value store (``s.kv``, table ``pgrecall.kv``)."""

from __future__ import annotations

from datetime import datetime

from .core import Row

__all__ = ["KVEntry", "KVKey"]


class KVEntry(Row):
    """A value and its key in a namespace."""

    namespace: str
    key: str
    value: bytes
    created_at: datetime
    updated_at: datetime


class KVKey(Row):
    key: str
