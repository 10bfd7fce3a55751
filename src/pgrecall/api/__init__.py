"""pgrecall over HTTP (extra ``pgrecall[api]``): ``create_app(store)`` and ``pgrecall serve``.

The names below are imported on first use, so ``pgrecall.api.keys`` (API keys, needed by
the CLI and ``pgrecall check``) works without FastAPI installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app, serve_app
    from .auth import ApiKeyAuth, Authenticate, Principal, RateLimit
    from .problems import Problem, ProblemError
    from .server import serve

__all__ = [
    "ApiKeyAuth",
    "Authenticate",
    "Principal",
    "Problem",
    "ProblemError",
    "RateLimit",
    "create_app",
    "serve",
    "serve_app",
]

_WHERE = {
    "create_app": "app",
    "serve_app": "app",
    "ApiKeyAuth": "auth",
    "Authenticate": "auth",
    "Principal": "auth",
    "RateLimit": "auth",
    "Problem": "problems",
    "ProblemError": "problems",
    "serve": "server",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pgrecall.api' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
