"""API keys: random bearer tokens, stored only as SHA-256, one tenant each.

A key is ``pgr_`` + 43 characters of base64url (32 bytes from :mod:`secrets`). The table
keeps its SHA-256 and its first 12 characters (the non-secret *prefix* that names it in
listings). SHA-256 -- not bcrypt or argon2 -- because the input is a 256-bit random token:
there is nothing to guess that a deliberately slow hash would protect, and the lookup runs
on every request. This module needs no web framework (the CLI and ``pgrecall check`` use it).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

import pgrecall
from pgrecall.errors import ValidationError

__all__ = [
    "KEY_PREFIX",
    "ApiKey",
    "CreatedKey",
    "KeyMatch",
    "create_key",
    "hash_key",
    "list_keys",
    "new_key",
    "revoke_key",
]

KEY_PREFIX = "pgr_"
PREFIX_LEN = 12
MAX_KEY_LEN = 200
MAX_NAME = 200


class ApiKey(BaseModel):
    """A stored key as listed: never the key itself, nor its hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    id: UUID
    prefix: str
    name: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class KeyMatch(BaseModel):
    """What ``api_authenticate`` finds for a key: its tenant, and the rate limit's verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    key_id: UUID
    retry_after: float


class CreatedKey(BaseModel):
    """A new key: ``key`` is shown this once and never stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    info: ApiKey


def new_key() -> str:
    """A fresh random key: ``pgr_`` and 32 random bytes in base64url."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> bytes:
    """The SHA-256 of a key as stored (bytes, 32 of them)."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LEN:
        raise ValidationError(f"an API key is 1 to {MAX_KEY_LEN} characters")
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def _check_name(name: str) -> str:
    if not isinstance(name, str) or "\x00" in name or len(name) > MAX_NAME:
        raise ValidationError(f"name must be text without NUL, at most {MAX_NAME} characters")
    return name


def _check_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValidationError("expires_at must be a timezone-aware datetime")
    return expires_at


def create_key(
    s: pgrecall.Session, *, name: str = "", expires_at: datetime | None = None
) -> CreatedKey:
    """Create a key for the session's tenant; the returned ``key`` is shown once."""
    key = new_key()
    info = s.db.one(
        s.queries.api_key_create,
        ApiKey,
        tenant_id=s.tenant,
        key_hash=hash_key(key),
        prefix=key[:PREFIX_LEN],
        name=_check_name(name),
        expires_at=_check_expiry(expires_at),
    )
    assert info is not None  # INSERT ... RETURNING
    return CreatedKey(key=key, info=info)


def list_keys(s: pgrecall.Session, *, include_revoked: bool = False) -> list[ApiKey]:
    """The tenant's keys, newest first."""
    return s.db.many(
        s.queries.api_key_list, ApiKey, tenant_id=s.tenant, include_revoked=include_revoked
    )


def revoke_key(s: pgrecall.Session, key: str) -> ApiKey:
    """Revoke a key given by id or prefix; :class:`NotFoundError` when the tenant has none."""
    try:
        kid: UUID | None = UUID(key)
    except ValueError:
        kid = None
    found = s.db.one(s.queries.api_key_revoke, ApiKey, tenant_id=s.tenant, id=kid, prefix=key)
    if found is None:
        raise pgrecall.NotFoundError(f"no API key {key!r} in tenant {s.tenant!r}")
    return found
