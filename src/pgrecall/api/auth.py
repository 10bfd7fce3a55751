"""Who is calling: a bearer API key decides the tenant; a token bucket limits each key.

:class:`ApiKeyAuth` is the default authenticator. An application with its own scheme (a JWT
claim, a session cookie) passes ``create_app(store, authenticate=fn)``: ``fn(request)``
returns a :class:`Principal` (the tenant and a subject, e.g. the user) or ``None`` (401).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from psycopg.rows import kwargs_row

import pgrecall

from .keys import KeyMatch, hash_key
from .problems import ProblemError

__all__ = ["ApiKeyAuth", "Authenticate", "Principal", "RateLimit", "bearer_token", "take_token"]

MAX_BEARER = 200


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its ``tenant`` and who it is (``subject``).

    ``limited`` is true when the authenticator has applied the rate limit itself (as
    :class:`ApiKeyAuth` does, in the lookup's statement), so the app does not take another token.
    """

    tenant: str
    subject: str
    limited: bool = False


@dataclass(frozen=True)
class RateLimit:
    """``rate`` requests a second per key on average, bursts of up to ``burst``."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0 and self.burst >= 1):
            raise pgrecall.ValidationError("rate limit: rate must be > 0 and burst >= 1")


Authenticate = Callable[[Request], Awaitable[Principal | None]]


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError(401, detail, headers={"WWW-Authenticate": "Bearer"})


def rate_limited(retry_after: float) -> ProblemError:
    seconds = max(1, math.ceil(retry_after))
    return ProblemError(429, "rate limit exceeded", headers={"Retry-After": str(seconds)})


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_BEARER:
        return None
    return token


class ApiKeyAuth:
    """Bearer API keys (``pgrecall api-key create``), looked up by their SHA-256.

    One statement per request: the lookup (``pgrecall.api_key_tenant``) and, with a rate
    limit, the token taken from the key's bucket, in one pipelined transaction.
    """

    def __init__(self, store: pgrecall.AsyncStore, rate_limit: RateLimit | None = None) -> None:
        self.store = store
        self.rate_limit = rate_limit

    async def __call__(self, request: Request) -> Principal | None:
        token = bearer_token(request)
        if token is None:
            return None
        limit = self.rate_limit
        query = self.store.queries.api_authenticate
        params = query.bind(
            {
                "key_hash": hash_key(token),
                "rate": limit.rate if limit else None,
                "burst": float(limit.burst) if limit else None,
            }
        )
        async with self.store.connection() as db:
            conn = db.conn
            # BEGIN, the statement and COMMIT leave in one pipeline: one round trip.
            async with conn.pipeline(), conn.transaction():
                cur = conn.cursor(row_factory=kwargs_row(KeyMatch))
                await cur.execute(query.sql, params, prepare=True)
            found = await cur.fetchall()
        if len(found) != 1:  # unknown, revoked or expired
            return None
        match = found[0]
        if match.retry_after > 0:
            raise rate_limited(match.retry_after)
        return Principal(tenant=match.tenant_id, subject=str(match.key_id), limited=True)


async def take_token(store: pgrecall.AsyncStore, who: Principal, limit: RateLimit) -> None:
    """Take a token from ``who``'s bucket (own transaction); 429 when there is none."""
    async with store.session(who.tenant) as s:
        wait = await s.db.scalar(
            s.queries.api_rate_take,
            float,
            tenant_id=who.tenant,
            subject=who.subject,
            rate=limit.rate,
            burst=float(limit.burst),
        )
    if wait > 0:
        raise rate_limited(wait)
