"""The few primitives whose sync and async forms differ in more than keywords.

The generator turns ``name_async`` into ``name``; these pairs are written by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["sleep", "sleep_async", "to_thread", "to_thread_async"]

R = TypeVar("R")


async def sleep_async(seconds: float) -> None:
    await asyncio.sleep(seconds)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


async def to_thread_async(fn: Callable[[], R]) -> R:
    """Run blocking work (yoyo, the embedded server) off the event loop."""
    return await asyncio.to_thread(fn)


def to_thread(fn: Callable[[], R]) -> R:
    return fn()
