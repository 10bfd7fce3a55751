"""``s.documents``: uploaded files and items, deduplicated by content hash."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from uuid import UUID

from ..errors import ValidationError
from ..models.knowledge import Document
from ._base_async import AsyncArea
from .validate import as_uuid, check_after, check_limit, check_text, jsonb, opt_text, opt_uuid

__all__ = ["AsyncDocuments", "check_sha256"]

MAX_TITLE = 1000
MAX_NAME = 1000
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_sha256(value: str) -> str:
    """A hex SHA-256 digest (any case in, lower case out)."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise ValidationError("sha256 must be 64 hexadecimal characters")
    return value.lower()


def _size(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValidationError("size_bytes must be a non-negative integer")
    return value


class AsyncDocuments(AsyncArea):
    async def add(
        self,
        filename: str,
        *,
        data: bytes | None = None,
        sha256: str | None = None,
        size_bytes: int | None = None,
        original_filename: str | None = None,
        storage_uri: str | None = None,
        mime_type: str | None = None,
        title: str = "",
        source: str | None = None,
        conversation_id: UUID | str | None = None,
        run_id: UUID | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Document:
        """Store a document's record (the bytes stay where ``storage_uri`` points).

        With ``data`` the SHA-256 and size are computed from it. A document whose
        ``sha256`` is already stored in this tenant is not stored again: the existing
        one is returned (compare ``created_at`` or use :meth:`find_by_sha256` first).
        """
        if not isinstance(filename, str) or not filename:
            raise ValidationError("filename must be non-empty text")
        if data is not None and not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValidationError(f"data must be bytes, not {type(data).__name__}")
        if data is not None:
            digest = hashlib.sha256(data).hexdigest()
            if sha256 is not None and check_sha256(sha256) != digest:
                raise ValidationError("sha256 does not match data")
            if size_bytes is not None and size_bytes != len(data):
                raise ValidationError("size_bytes does not match data")
            sha256, size_bytes = digest, len(data)
        sha = None if sha256 is None else check_sha256(sha256)
        doc = await self.db.one(
            self.q.add_document,
            Document,
            tenant_id=self.t,
            filename=check_text(filename, "filename", max_len=MAX_NAME),
            original_filename=opt_text(original_filename, "original_filename", MAX_NAME),
            storage_uri=opt_text(storage_uri, "storage_uri", 10_000),
            size_bytes=_size(size_bytes),
            mime_type=opt_text(mime_type, "mime_type", 200),
            sha256=sha,
            title=check_text(title, "title", max_len=MAX_TITLE),
            source=opt_text(source, "source", 200),
            conversation_id=opt_uuid(conversation_id, "conversation_id"),
            run_id=opt_uuid(run_id, "run_id"),
            metadata=jsonb(metadata, "metadata"),
        )
        if doc is None:  # documents_sha256_key: this content is stored already
            doc = await self.find_by_sha256(sha or "")
        if doc is None:
            raise AssertionError(f"add of sha256 {sha} returned nothing")
        return doc

    async def get(self, id: UUID | str) -> Document:
        """The document; :class:`NotFoundError` when absent."""
        return await self.db.get(self.q.get_document, Document, tenant_id=self.t, id=as_uuid(id))

    async def find(self, id: UUID | str) -> Document | None:
        return await self.db.one(self.q.get_document, Document, tenant_id=self.t, id=as_uuid(id))

    async def find_by_sha256(self, sha256: str) -> Document | None:
        return await self.db.one(
            self.q.get_document_by_sha256, Document, tenant_id=self.t, sha256=check_sha256(sha256)
        )

    async def list(
        self,
        *,
        conversation_id: UUID | str | None = None,
        run_id: UUID | str | None = None,
        source: str | None = None,
        mime_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        limit: int = 50,
        after: Document | None = None,
    ) -> list[Document]:
        """Documents newest first; filters combine (``metadata``: containment).

        Pass the last document of a page as ``after`` for the next page.
        """
        after = check_after(after, Document)
        return await self.db.many(
            self.q.list_documents,
            Document,
            tenant_id=self.t,
            conversation_id=opt_uuid(conversation_id, "conversation_id"),
            run_id=opt_uuid(run_id, "run_id"),
            source=opt_text(source, "source", 200),
            mime_type=opt_text(mime_type, "mime_type", 200),
            metadata=jsonb(metadata, "metadata"),
            before_created=after.created_at if after else None,
            before_id=after.id if after else None,
            limit=check_limit(limit),
        )

    async def count(self) -> int:
        return await self.db.scalar(self.q.count_documents, int, tenant_id=self.t)

    async def update(
        self,
        id: UUID | str,
        *,
        title: str | None = None,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        metadata_patch: dict[str, Any] | None = None,
    ) -> Document:
        """Change fields (``None`` keeps): ``metadata`` replaces the object,
        ``metadata_patch`` merges top-level keys into it. Full-text is kept current."""
        return await self.db.get(
            self.q.update_document,
            Document,
            tenant_id=self.t,
            id=as_uuid(id),
            title=opt_text(title, "title", MAX_TITLE),
            source=opt_text(source, "source", 200),
            metadata=None if metadata is None else jsonb(metadata, "metadata"),
            metadata_patch=None if metadata_patch is None else jsonb(metadata_patch, "metadata"),
        )

    async def delete(self, id: UUID | str) -> bool:
        """Delete the document with its analyses and embeddings; ``False`` if absent."""
        return await self.db.execute(self.q.delete_document, tenant_id=self.t, id=as_uuid(id)) > 0
