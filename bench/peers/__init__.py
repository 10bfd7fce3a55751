"""The peers pgrecall is measured against, each written the way its users write it.

- :mod:`.raw` — raw psycopg: pgrecall's own SQL text on a plain psycopg pool, rows as
  tuples. The lower bound: what the same statements cost without pgrecall's Python.
- :mod:`.sqla` — the SQLAlchemy ORM "database module" of a typical LLM app:
  declarative ``Conversation`` / ``Message`` models in schema ``peer_sqla``, a session
  per request, ORM add + commit + refresh, ``message_count`` kept in Python.
- :mod:`.lc` — langchain-postgres as its documentation shows it:
  ``PostgresChatMessageHistory`` for chat, ``PGVectorStore`` (with hybrid search
  configured) for chunks, psycopg 3 (``postgresql+psycopg://``) underneath.

The SQLAlchemy and langchain peers need the ``bench`` extra; :func:`available` says
whether a peer can run here, so a smoke run without the extra measures the others.
"""

from __future__ import annotations

import importlib.util

__all__ = ["ALL", "LANGCHAIN", "PGRECALL", "RAW", "SQLA", "available", "sqlalchemy_url"]

PGRECALL = "pgrecall"
RAW = "raw psycopg"
SQLA = "SQLAlchemy ORM"
LANGCHAIN = "langchain-postgres"
ALL = (PGRECALL, RAW, SQLA, LANGCHAIN)

_NEEDS = {SQLA: ("sqlalchemy",), LANGCHAIN: ("sqlalchemy", "langchain_postgres")}


def available(peer: str) -> bool:
    """Whether ``peer``'s packages are installed (the ``bench`` extra)."""
    return all(importlib.util.find_spec(m) is not None for m in _NEEDS.get(peer, ()))


def sqlalchemy_url(url: str) -> str:
    """``url`` in the form SQLAlchemy and langchain-postgres take for psycopg 3."""
    for scheme in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    raise ValueError(f"not a PostgreSQL URL: {url}")
