"""``create_app``: pgrecall over HTTP (FastAPI), one tenant per API key.

The store: pass an :class:`~pgrecall.AsyncStore` (yours: the app opens it at startup if
needed and leaves closing it to you), or :class:`~pgrecall.Settings` / nothing (the app
opens a store from them, or from the environment, at startup and closes it at shutdown).
Every request runs in one ``store.session(tenant)``, committed before the response is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import pgrecall

from . import routes_core, routes_health, routes_knowledge, routes_ops
from .auth import ApiKeyAuth, Authenticate, RateLimit
from .deps import ApiState
from .filters import FILTER_SCHEMAS
from .limits import BodyLimit
from .problems import Problem, install_handlers
from .schemas import NO_NUL

__all__ = ["DEFAULT_MAX_BODY", "create_app", "serve_app"]

DEFAULT_MAX_BODY = 8 * 1024 * 1024
_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def create_app(
    store: pgrecall.AsyncStore | pgrecall.Settings | None = None,
    *,
    authenticate: Authenticate | None = None,
    rate_limit: RateLimit | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    title: str = "pgrecall",
) -> FastAPI:
    """The FastAPI app. ``authenticate`` replaces API keys (see :mod:`pgrecall.api.auth`);
    ``rate_limit`` (off by default) limits each key across every process; bodies over
    ``max_body_bytes`` get 413."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = not isinstance(store, pgrecall.AsyncStore)
        if isinstance(store, pgrecall.AsyncStore):
            opened = store
            await opened.open()
        else:
            opened = await pgrecall.AsyncStore(store or pgrecall.Settings()).open()
        auth = authenticate or ApiKeyAuth(opened, rate_limit)
        app.state.pgrecall = ApiState(opened, auth, rate_limit)
        try:
            yield
        finally:
            app.state.pgrecall = None
            if owned:
                await opened.close()

    app = FastAPI(
        title=title,
        version=pgrecall.__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.include_router(routes_health.router)
    app.include_router(routes_core.router)
    app.include_router(routes_knowledge.router)
    app.include_router(routes_ops.router)
    _docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def serve_app() -> FastAPI:
    """The app ``pgrecall serve`` runs in each uvicorn worker (settings from the
    environment; ``PGRECALL_API_RATE`` / ``PGRECALL_API_BURST`` turn the rate limit on)."""
    import os

    rate = os.environ.get("PGRECALL_API_RATE")
    burst = os.environ.get("PGRECALL_API_BURST")
    limit = RateLimit(float(rate), int(burst or 10)) if rate else None
    return create_app(pgrecall.Settings(), rate_limit=limit)


_DESCRIPTION = """pgrecall over HTTP: conversations, messages, documents, embeddings, search,
memories, runs and events of one tenant. Authenticate with `Authorization: Bearer <key>`
(`pgrecall api-key create --tenant T`): the key decides the tenant. Errors are
`application/problem+json` (RFC 9457)."""


def _docs(app: FastAPI) -> None:
    """Swagger UI at /docs from local assets (package fastapi-offline): no CDN needed."""
    app.mount("/docs/assets", StaticFiles(directory=_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png",
        )


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        schemas.update(FILTER_SCHEMAS)
        _drop_fastapi_422(schema)
        app.openapi_schema = _fix_keys(schema)
    return app.openapi_schema


def _drop_fastapi_422(schema: dict[str, Any]) -> None:
    """FastAPI documents its 422 as ``HTTPValidationError`` JSON; ours is a problem."""
    for item in schema.get("paths", {}).values():
        for op in item.values():
            resp = op.get("responses", {}).get("422", {})
            resp.get("content", {}).pop("application/json", None)
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)


def _fix_keys(node: Any) -> Any:
    """Object keys without NUL: pydantic writes ``patternProperties``; say it plainly
    (``propertyNames`` with the pattern), so no other key validates."""
    if isinstance(node, list):
        return [_fix_keys(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _fix_keys(v) for k, v in node.items()}
    pattern_props = out.get("patternProperties")
    if isinstance(pattern_props, dict) and list(pattern_props) == [NO_NUL]:
        out["additionalProperties"] = out.pop("patternProperties")[NO_NUL]
        out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": NO_NUL}
    return out
