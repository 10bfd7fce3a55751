"""Helpers of the HTTP service tests (no tests here): keys, apps, a live uvicorn server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

import pgrecall
from pgrecall.api.keys import create_key

__all__ = ["auth", "free_port", "live_server", "make_key", "settings_for"]


def settings_for(db_url: str, **extra: Any) -> pgrecall.Settings:
    return pgrecall.Settings(
        **({"pool_min_size": 0, "pool_max_size": 4} | extra), database_url=db_url
    )


def make_key(store: pgrecall.Store, tenant: str, **kw: Any) -> str:
    with store.session(tenant) as s:
        return create_key(s, **kw).key


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port in a thread; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
