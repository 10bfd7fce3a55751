"""``pgrecall serve``: uvicorn running :func:`pgrecall.api.app.serve_app` in each worker."""

from __future__ import annotations

import os

import uvicorn

__all__ = ["serve"]


def serve(
    url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    rate: float | None = None,
    burst: int | None = None,
) -> None:
    """Serve until interrupted. Workers are separate processes: they read the database URL
    and the rate limit from the environment set here (the limit holds across them: the
    token buckets are in PostgreSQL)."""
    os.environ["DATABASE_URL"] = url
    if rate is not None:
        os.environ["PGRECALL_API_RATE"] = str(rate)
        os.environ["PGRECALL_API_BURST"] = str(burst or 10)
    uvicorn.run(
        "pgrecall.api.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
