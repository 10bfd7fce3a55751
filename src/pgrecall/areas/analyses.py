# Generated from analyses_async.py by tools/async_to_sync.py: do not edit.
"""``s.analyses``: versioned AI analyses of documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from ..errors import ValidationError
from ..models.knowledge import Analysis
from ._base import Area
from .validate import (
    MAX_INT,
    as_uuid,
    check_json,
    check_limit,
    check_seq,
    check_text,
    opt_text,
)

__all__ = ["Analyses"]

MAX_SUMMARY = 1_000_000
MAX_TAGS = 200


def _tags(tags: Sequence[str]) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise ValidationError("tags must be a sequence of text")
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"more than {MAX_TAGS} tags")
    out = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValidationError("tags must be text")
        out.append(check_text(tag, "tag", max_len=200))
    return out


class Analyses(Area):
    def add(
        self,
        document_id: UUID | str,
        *,
        category: str | None = None,
        summary: str | None = None,
        tags: Sequence[str] = (),
        raw_response: Any = None,
        provider: str | None = None,
        model: str | None = None,
        trace_id: str | None = None,
    ) -> Analysis:
        """Add the next version of a document's analysis (1, 2, 3 ... assigned atomically).

        ``raw_response`` is any JSON value (the provider's full answer). Raises
        :class:`NotFoundError` for an unknown document.
        """
        return self.db.get(
            self.q.add_analysis,
            Analysis,
            tenant_id=self.t,
            document_id=as_uuid(document_id, "document_id"),
            category=opt_text(category, "category", 200),
            summary=opt_text(summary, "summary", MAX_SUMMARY),
            tags=_tags(tags),
            raw_response=Jsonb({} if raw_response is None else check_json(raw_response, "raw")),
            provider=opt_text(provider, "provider", 200),
            model=opt_text(model, "model", 200),
            trace_id=opt_text(trace_id, "trace_id", 200),
        )

    def get(self, id: UUID | str) -> Analysis:
        return self.db.get(self.q.get_analysis, Analysis, tenant_id=self.t, id=as_uuid(id))

    def version(self, document_id: UUID | str, version: int) -> Analysis:
        """One version; :class:`NotFoundError` when it does not exist."""
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_INT:
            raise ValidationError(f"version must be an integer between 1 and {MAX_INT}")
        return self.db.get(
            self.q.get_analysis_version,
            Analysis,
            tenant_id=self.t,
            document_id=as_uuid(document_id, "document_id"),
            version=version,
        )

    def latest(self, document_id: UUID | str) -> Analysis | None:
        """The newest analysis of a document, ``None`` when it has none."""
        found = self.latest_many([document_id])
        return next(iter(found.values()), None)

    def latest_many(self, document_ids: Sequence[UUID | str]) -> dict[UUID, Analysis]:
        """The newest analysis of each document, in one query (absent: no analysis)."""
        ids = [as_uuid(d, "document_id") for d in check_seq(document_ids, "document_ids")]
        rows = self.db.many(
            self.q.latest_analyses, Analysis, tenant_id=self.t, document_ids=ids
        )
        return {a.document_id: a for a in rows}

    def history(self, document_id: UUID | str, *, limit: int = 100) -> list[Analysis]:
        """Every version, newest first."""
        return self.db.many(
            self.q.analysis_history,
            Analysis,
            tenant_id=self.t,
            document_id=as_uuid(document_id, "document_id"),
            limit=check_limit(limit),
        )
