"""Errors as RFC 9457 ``application/problem+json``, for every failure the service returns.

pgrecall's typed errors map to statuses (:data:`STATUS_OF`); FastAPI's own request
validation errors are 422 problems (malformed JSON: 400); Starlette's HTTP errors (404 for an
unknown path, 405) keep their status. :func:`responses` documents them per operation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from pgrecall.errors import (
    ConflictError,
    NotFoundError,
    PgRecallError,
    TenantMissingError,
    TransientError,
    ValidationError,
)

__all__ = [
    "PROBLEM_JSON",
    "FieldError",
    "Problem",
    "ProblemError",
    "install_handlers",
    "problem_response",
    "responses",
]

logger = logging.getLogger("pgrecall.api")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:pgrecall:problem:"
RETRY_AFTER_TRANSIENT = 1

STATUS_OF: tuple[tuple[type[PgRecallError], int], ...] = (
    (ValidationError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TenantMissingError, 401),
    (TransientError, 503),
)
_SLUG = {
    400: "malformed-request",
    401: "unauthenticated",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "body-too-large",
    422: "invalid",
    429: "rate-limited",
    500: "internal",
    503: "unavailable",
}


class FieldError(BaseModel):
    """One invalid part of a request: where (``loc``) and why."""

    model_config = ConfigDict(extra="forbid")

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:pgrecall:problem:not-found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "conversation not found",
                }
            ]
        },
    )

    type: str = Field(description="URI naming the kind of problem: urn:pgrecall:problem:<slug>")
    title: str = Field(description="The HTTP status phrase")
    status: int = Field(ge=400, le=599)
    detail: str | None = Field(default=None, description="What went wrong, for a human")
    sqlstate: str | None = Field(default=None, description="PostgreSQL SQLSTATE, when one")
    errors: list[FieldError] | None = Field(
        default=None, description="Request validation: every invalid field"
    )


class ProblemError(Exception):
    """Raise to answer with a problem (e.g. 401, 413, 429) and optional headers."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    sqlstate: str | None = None,
    errors: list[FieldError] | None = None,
) -> JSONResponse:
    body = Problem(
        type=TYPE_BASE + _SLUG.get(status, str(status)),
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        sqlstate=sqlstate,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def status_of(exc: PgRecallError) -> int:
    for cls, status in STATUS_OF:
        if isinstance(exc, cls):
            return status
    return 500


async def _pgrecall_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PgRecallError)
    status = status_of(exc)
    if status == 500:
        logger.error("pgrecall error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "internal error")
    headers = {"Retry-After": str(RETRY_AFTER_TRANSIENT)} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return problem_response(status, str(exc), headers=headers, sqlstate=exc.sqlstate)


def _field_errors(raw: Sequence[Any]) -> list[FieldError]:
    out = []
    for e in raw:
        loc = [p if isinstance(p, int) else str(p) for p in e.get("loc", ())]
        out.append(FieldError(loc=loc, msg=str(e.get("msg", "")), type=str(e.get("type", ""))))
    return out


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc.errors())
    if any(e.type == "json_invalid" for e in errors):
        return problem_response(400, "the body is not valid JSON", errors=errors)
    return problem_response(422, "the request is invalid", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.detail, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal error")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PgRecallError, _pgrecall_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ProblemError, _problem)
    app.add_exception_handler(Exception, _unexpected)


_DESCRIPTION = {
    400: "Malformed request: the body is not valid JSON, or a bad cursor",
    401: "No API key, or an unknown, revoked or expired one",
    404: "Not found in this tenant (another tenant's id is not found either)",
    409: "Conflict with the current state (e.g. a closed conversation, a duplicate)",
    413: "The request body is larger than the configured limit",
    422: "The request is invalid (body, path or query)",
    429: "Rate limited: retry after Retry-After seconds",
    500: "Internal error",
    503: "Database unavailable or busy (transient): retry after Retry-After seconds",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
_WWW_AUTH = {
    "WWW-Authenticate": {
        "description": "The authentication scheme: Bearer",
        "schema": {"type": "string"},
    }
}
_COMMON = (400, 422, 500, 503)
_AUTHED = (401, 429)


def responses(*statuses: int, auth: bool = True, body: bool = False) -> dict[int | str, Any]:
    """OpenAPI ``responses`` for the problems an operation can return."""
    extra = (*(_AUTHED if auth else ()), *((413,) if body else ()))
    codes: Iterable[int] = (*statuses, *_COMMON, *extra)
    out: dict[int | str, Any] = {}
    for code in sorted(set(codes)):
        entry: dict[str, Any] = {
            "description": _DESCRIPTION[code],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if code in (429, 503):
            entry["headers"] = _RETRY_AFTER
        if code == 401:
            entry["headers"] = _WWW_AUTH
        out[code] = entry
    return out
