"""Per-request plumbing: the authenticated tenant and its session (one transaction)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

import pgrecall

from .auth import Authenticate, Principal, RateLimit, take_token, unauthenticated
from .schemas import KEY_PATTERN

__all__ = ["ApiState", "Ctx", "CtxDep", "IdempotencyKey", "context"]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key (`pgrecall api-key create --tenant T`): it decides the tenant.",
)


@dataclass
class ApiState:
    """What the app keeps in ``app.state.pgrecall`` once its lifespan has started."""

    store: pgrecall.AsyncStore
    authenticate: Authenticate
    rate_limit: RateLimit | None


@dataclass(frozen=True)
class Ctx:
    """The caller and the store: ``async with ctx.session() as s`` is the request's unit
    of work; it commits when the block ends, before the response is sent."""

    store: pgrecall.AsyncStore
    who: Principal

    def session(self) -> AbstractAsyncContextManager[pgrecall.AsyncSession]:
        return self.store.session(self.who.tenant)


def state_of(request: Request) -> ApiState:
    state = getattr(request.app.state, "pgrecall", None)
    if not isinstance(state, ApiState):
        raise pgrecall.TransientError("the service is starting or stopping")
    return state


async def context(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Ctx:
    state = state_of(request)
    who = await state.authenticate(request)
    if who is None:
        raise unauthenticated("a valid API key is required: Authorization: Bearer <key>")
    if state.rate_limit is not None and not who.limited:
        await take_token(state.store, who, state.rate_limit)
    return Ctx(state.store, who)


CtxDep = Annotated[Ctx, Depends(context)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=KEY_PATTERN,
        description="A retry with the same key returns the first result (stored as request_id).",
    ),
]
