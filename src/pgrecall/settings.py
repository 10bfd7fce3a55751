"""Settings, read from the environment at the edge (constructor values win)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import ConfigurationError

__all__ = ["Settings", "libpq_url", "yoyo_url"]


class Settings(BaseSettings):
    """pgrecall settings. Environment: ``DATABASE_URL`` and ``PGRECALL_*``."""

    model_config = SettingsConfigDict(env_prefix="PGRECALL_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("database_url", "DATABASE_URL")
    )
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout: float = Field(default=30.0, gt=0, description="seconds to wait for a checkout")
    pool_max_lifetime: float = Field(
        default=3600.0, gt=0, description="recycle connections older than this (seconds)"
    )
    pool_check_after: float = Field(
        default=1.0,
        ge=0,
        description="check a pooled connection on checkout when idle this long (0 = always)",
    )
    statement_timeout_ms: int = Field(default=30_000, ge=0, description="0 disables")
    echo: bool = Field(default=False, description="log every statement at DEBUG")
    embedded_dir: Path = Field(default=Path(".pgrecall"), description="embedded server home")
    embedded_version: Literal[16, 18] = 18
    migrate_lock_timeout: float = Field(default=60.0, gt=0)
    migrate_statement_lock_timeout: float = Field(
        default=5.0, ge=0, description="seconds a migration statement waits for a lock (0 = none)"
    )
    migrate_statement_timeout: float = Field(
        default=3600.0, ge=0, description="seconds one migration statement may run (0 = no limit)"
    )
    migrate_lock_retries: int = Field(
        default=5, ge=0, le=1000, description="retries of a migration that hit the lock timeout"
    )
    migrate_lock_retry_delay: float = Field(
        default=1.0, ge=0, description="first backoff before a retry, doubled up to 30 s"
    )
    replica_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="read replicas (env: comma-separated URLs)"
    )
    max_replica_lag: float = Field(
        default=5.0, ge=0, description="seconds of replay lag above which a replica is skipped"
    )
    replica_wait: float = Field(
        default=0.01,
        ge=0,
        description="seconds a read-only session waits for a replica to replay this store's "
        "last commit before using the primary",
    )
    replica_retry_after: float = Field(
        default=10.0, gt=0, description="seconds before a failed replica is tried again"
    )
    replica_timeout: float = Field(
        default=1.0, gt=0, description="seconds to wait for a replica connection"
    )

    @field_validator("embedded_version", mode="before")
    @classmethod
    def _version_from_env(cls, value: object) -> object:
        """``PGRECALL_EMBEDDED_VERSION=16`` arrives as the string "16"."""
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value

    @field_validator("replica_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        """``PGRECALL_REPLICA_URLS=url1,url2`` (or a list, from code)."""
        if isinstance(value, str):
            return [u.strip() for u in value.split(",") if u.strip()]
        return value

    @field_validator("replica_urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        return [libpq_url(u) for u in value]

    def require_url(self) -> str:
        if not self.database_url:
            raise ConfigurationError(
                "no database URL: pass one to pgrecall.connect(url) or set DATABASE_URL "
                "(run `pgrecall up` to start the embedded PostgreSQL and print one)"
            )
        return libpq_url(self.database_url)


_SCHEMES = ("postgresql+psycopg://", "postgresql+psycopg2://", "postgresql://", "postgres://")


def _split_scheme(url: str) -> str:
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            return url[len(scheme) :]
    raise ConfigurationError(
        f"unsupported database URL scheme in {url.split('://')[0]!r}: "
        "use postgresql://, postgres:// or postgresql+psycopg://"
    )


def libpq_url(url: str) -> str:
    """The URL as libpq / psycopg want it (``postgresql://``)."""
    return "postgresql://" + _split_scheme(url)


def yoyo_url(url: str) -> str:
    """The URL as yoyo 9 wants it: ``postgresql+psycopg://`` (plain scheme needs psycopg2)."""
    return "postgresql+psycopg://" + _split_scheme(url)
