"""Progress bars for the long commands (export, import, cleanup), on a terminal only.

tqdm draws them on standard error, and only when standard error is a terminal: piped,
redirected or under cron the commands print exactly what they printed before. The
operations themselves (``pgrecall.ops``) take a plain ``progress`` callback and know
nothing of tqdm.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["row_bar", "step_bar"]


def _enabled(enabled: bool | None) -> bool:
    if enabled is not None:
        return enabled
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _tqdm(**kwargs: Any) -> Any:
    from tqdm import tqdm

    return tqdm(file=sys.stderr, dynamic_ncols=True, leave=False, **kwargs)


@contextmanager
def row_bar(
    desc: str, *, total: int | None = None, enabled: bool | None = None
) -> Iterator[Callable[[str, int], None] | None]:
    """A ``progress(table, rows)`` callback drawing a rows bar (``None`` when off)."""
    if not _enabled(enabled):
        yield None
        return
    bar = _tqdm(desc=desc, total=total, unit=" rows", unit_scale=True)
    current: list[str] = [""]

    def progress(table: str, rows: int) -> None:
        if table != current[0]:
            current[0] = table
            bar.set_postfix_str(table, refresh=False)
        bar.update(rows)

    try:
        yield progress
    finally:
        bar.close()


@contextmanager
def step_bar(
    desc: str, steps: int, *, enabled: bool | None = None
) -> Iterator[Callable[[str], None] | None]:
    """A ``progress(step)`` callback: each call finishes the previous step, names the next."""
    if not _enabled(enabled):
        yield None
        return
    bar = _tqdm(desc=desc, total=steps, unit=" steps")
    started = [False]

    def progress(step: str) -> None:
        if started[0]:
            bar.update(1)
        started[0] = True
        bar.set_postfix_str(step)

    try:
        yield progress
    finally:
        if started[0]:
            bar.update(1)
        bar.close()
