"""Where the project's SQL lives: packaged in the wheel, or at the checkout root."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .named import Queries, load_queries

__all__ = ["migrations_dir", "project_queries", "queries_dir", "sql_dir"]


@cache
def sql_dir() -> Path:
    """``pgrecall/sql`` inside an installed wheel, else ``<checkout>/sql``."""
    packaged = Path(__file__).resolve().parents[1] / "sql"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "sql"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"pgrecall SQL files not found (looked in {packaged} and {checkout})")


def migrations_dir() -> Path:
    return sql_dir() / "migrations"


def queries_dir() -> Path:
    return sql_dir() / "queries"


@cache
def project_queries() -> Queries:
    """pgrecall's own named queries, loaded and validated once per process."""
    return load_queries(queries_dir())
