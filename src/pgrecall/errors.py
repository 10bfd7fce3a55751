"""The exception tree: one base class, a few specific subclasses.

Database errors are translated by :func:`translate` (``raise ... from exc``) and keep
the server's SQLSTATE, constraint name and message, so callers can branch on
``err.sqlstate`` without importing psycopg.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import errors as pgerr

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "MigrationError",
    "NotFoundError",
    "PgRecallError",
    "ReadOnlyError",
    "TenantMissingError",
    "TransientError",
    "ValidationError",
    "translate",
]


class PgRecallError(Exception):
    """Base class of every error pgrecall raises."""

    sqlstate: str | None = None
    constraint_name: str | None = None

    def __init__(
        self, message: str, *, sqlstate: str | None = None, constraint_name: str | None = None
    ) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.constraint_name = constraint_name


class ConfigurationError(PgRecallError):
    """No database URL, an unusable setting, a missing embedded server."""


class ValidationError(PgRecallError, ValueError):
    """Input rejected before it reaches the table (or by a CHECK constraint)."""


class NotFoundError(PgRecallError, LookupError):
    """The row asked for does not exist in this tenant."""


class ConflictError(PgRecallError):
    """A unique or foreign-key constraint, or an illegal state change."""


class ReadOnlyError(ConflictError):
    """A write in a read-only session (``store.session(tenant, read_only=True)``)."""


class TenantMissingError(PgRecallError):
    """A tenant-scoped operation ran without a tenant, or wrote outside its tenant (RLS)."""


class TransientError(PgRecallError):
    """Serialization failure, deadlock or lost connection: safe to retry when idempotent.

    ``outcome_unknown`` is true when the connection broke after the statement may have
    been sent: a write may or may not have committed.
    """

    outcome_unknown: bool = False


class MigrationError(PgRecallError):
    """A migration run refused or failed (lock timeout, drift, invalid index, lint)."""


# The schema (or a function a later migration adds) is missing: the database is not
# migrated to what this pgrecall expects.
_UNMIGRATED = ("42P01", "42883", "3F000")  # undefined table / function, invalid schema
_MIGRATE_HINT = (
    "the database is missing pgrecall's schema or a migration: "
    "run `pgrecall migrate` (or `yoyo apply`)"
)
_RETRYABLE = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "08000", "08003", "08006"}
_CONFLICT_CLASSES = ("23505", "23503", "23P01")
_VALIDATION_CLASSES = ("22", "23502", "23514")


# A Citus coordinator relays a worker's error with this context line. The names in it
# are the shards' (users_pkey_102307), the constraint field may be missing and the
# SQLSTATE may be XX000: put back what a single server says.
_CITUS_REMOTE = "while executing command on"
_SHARD_SUFFIX = re.compile(r'"([A-Za-z_][A-Za-z0-9_$]*?)_[0-9]{6,}"')
_NAMED_CONSTRAINT = re.compile(r'constraint "([^"]+)"')
_CITUS_MOVE = "modifying the partition value of rows is not allowed"
_SQLSTATE_BY_MESSAGE = (
    ("duplicate key value", "23505"),
    ("violates foreign key constraint", "23503"),
    ("violates check constraint", "23514"),
    ("violates not-null constraint", "23502"),
    ("row-level security", "42501"),
)


def _from_citus_worker(
    sqlstate: str | None, constraint: str | None, message: str
) -> tuple[str | None, str | None, str]:
    message = _SHARD_SUFFIX.sub(r'"\1"', message)
    if constraint:
        constraint = re.sub(r"_[0-9]{6,}$", "", constraint)
    elif m := _NAMED_CONSTRAINT.search(message):
        constraint = m[1]
    if sqlstate in (None, "XX000"):
        sqlstate = next((c for text, c in _SQLSTATE_BY_MESSAGE if text in message), sqlstate)
    return sqlstate, constraint, message


def translate(exc: psycopg.Error) -> PgRecallError:
    """Map a psycopg error to the pgrecall tree, keeping SQLSTATE and constraint name."""
    diag = exc.diag
    sqlstate = exc.sqlstate
    constraint = diag.constraint_name if sqlstate else None
    message = diag.message_primary or str(exc).strip() or type(exc).__name__
    if _CITUS_REMOTE in (diag.context or ""):
        sqlstate, constraint, message = _from_citus_worker(sqlstate, constraint, message)
    if sqlstate in _UNMIGRATED and "pgrecall" in message:
        return ConfigurationError(f"{message}: {_MIGRATE_HINT}", sqlstate=sqlstate)
    cls: type[PgRecallError] = PgRecallError
    if isinstance(exc, psycopg.OperationalError) and (sqlstate is None or sqlstate in _RETRYABLE):
        err = TransientError(message, sqlstate=sqlstate, constraint_name=constraint)
        err.outcome_unknown = sqlstate is None or sqlstate.startswith("08") or sqlstate == "57P01"
        return err
    if sqlstate in _RETRYABLE:
        cls = TransientError
    elif sqlstate == "25006":  # read_only_sql_transaction
        cls = ReadOnlyError
        message = f"{message} (a read-only session: open store.session(tenant) to write)"
    elif sqlstate in _CONFLICT_CLASSES:
        cls = ConflictError
    elif sqlstate in ("P0002", "PR404"):
        cls = NotFoundError
    elif sqlstate == "PR409":
        cls = ConflictError
    elif sqlstate is not None and sqlstate.startswith(_VALIDATION_CLASSES):
        cls = ValidationError
    elif sqlstate == pgerr.InsufficientPrivilege.sqlstate and "row-level security" in message:
        cls = TenantMissingError  # a write outside the transaction's tenant
    elif sqlstate == "0A000" and _CITUS_MOVE in message:
        cls = TenantMissingError  # Citus: an UPDATE of tenant_id, the distribution column
    return cls(message, sqlstate=sqlstate, constraint_name=constraint)
