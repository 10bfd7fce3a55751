"""A database for a benchmark run: DATABASE_URL if set, else a fresh embedded server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pgrecall import migrate as migrations
from pgrecall.dev import embedded
from pgrecall.settings import yoyo_url
from pgrecall.testing import create_database


@contextmanager
def bench_database() -> Iterator[str]:
    """Yield the URL of a freshly migrated database."""
    base = os.environ.get("DATABASE_URL")
    home: Path | None = None
    if not base:
        home = Path(tempfile.mkdtemp(prefix="pgrecall-bench-"))
        base = embedded.start(home, 18).url
    try:
        url = create_database(base, prefix="pgrecall_bench")
        migrations.migrate(yoyo_url(url))
        yield url
    finally:
        if home is not None:
            embedded.stop(home, 18, mode="immediate")
            shutil.rmtree(home, ignore_errors=True)
