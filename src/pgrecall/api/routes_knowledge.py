"""Documents (metadata), versioned analyses, embeddings, search and memories."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

import pgrecall
from pgrecall.models import (
    Analysis,
    Document,
    DocumentHit,
    Embedding,
    EmbeddingModel,
    HybridHit,
    Memory,
    RecalledMemory,
    VectorHit,
)

from .deps import CtxDep
from .problems import responses
from .schemas import (
    AnalysisIn,
    DocumentIn,
    DocumentPatch,
    EmbeddingIn,
    EmbeddingModelIn,
    HybridSearchIn,
    MemoryIn,
    RecallIn,
    TextSearchIn,
    VectorSearchIn,
)

__all__ = ["router"]

router = APIRouter()
_404 = responses(404)


async def fits(s: pgrecall.AsyncSession, model: str, vector: list[float]) -> None:
    """404 for an undeclared model; 409 when the vector's length is not its dimension
    (the request is well formed: it conflicts with what the tenant declared)."""
    declared = await s.embeddings.model(model)
    if len(vector) != declared.dimensions:
        raise pgrecall.ConflictError(
            f"embedding model {model!r} is declared with {declared.dimensions} dimensions, "
            f"the vector has {len(vector)}"
        )


@router.post(
    "/v1/documents", status_code=201, tags=["documents"], responses=responses(404, 409, body=True)
)
async def add_document(body: DocumentIn, ctx: CtxDep) -> Document:
    """Record a document (the bytes stay where `storage_uri` points). A `sha256` already
    stored in this tenant returns the existing document."""
    async with ctx.session() as s:
        doc = await s.documents.add(**body.model_dump(exclude_unset=True))
    return doc


@router.get("/v1/documents", tags=["documents"], responses=responses())
async def list_documents(
    ctx: CtxDep,
    conversation_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[Document]:
    async with ctx.session() as s:
        docs = await s.documents.list(conversation_id=conversation_id, limit=limit)
    return docs


@router.get("/v1/documents/{id}", tags=["documents"], responses=_404)
async def get_document(id: UUID, ctx: CtxDep) -> Document:
    async with ctx.session() as s:
        doc = await s.documents.get(id)
    return doc


@router.patch("/v1/documents/{id}", tags=["documents"], responses=responses(404, body=True))
async def update_document(id: UUID, body: DocumentPatch, ctx: CtxDep) -> Document:
    """Change the title or source; `metadata_patch` merges top-level keys."""
    async with ctx.session() as s:
        doc = await s.documents.update(id, **body.model_dump(exclude_unset=True))
    return doc


@router.delete("/v1/documents/{id}", status_code=204, tags=["documents"], responses=_404)
async def delete_document(id: UUID, ctx: CtxDep) -> Response:
    """Delete the document with its analyses and embeddings."""
    async with ctx.session() as s:
        await s.documents.get(id)
        await s.documents.delete(id)
    return Response(status_code=204)


@router.post(
    "/v1/documents/{id}/analyses",
    status_code=201,
    tags=["analyses"],
    responses=responses(404, body=True),
)
async def add_analysis(id: UUID, body: AnalysisIn, ctx: CtxDep) -> Analysis:
    """Add the next version of the document's analysis."""
    async with ctx.session() as s:
        await s.documents.get(id)
        analysis = await s.analyses.add(id, **body.model_dump(exclude_unset=True))
    return analysis


@router.get("/v1/documents/{id}/analyses", tags=["analyses"], responses=_404)
async def analysis_history(
    id: UUID, ctx: CtxDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[Analysis]:
    """Every version, newest first."""
    async with ctx.session() as s:
        await s.documents.get(id)
        found = await s.analyses.history(id, limit=limit)
    return found


@router.post("/v1/embedding-models", tags=["embeddings"], responses=responses(409, body=True))
async def declare_model(body: EmbeddingModelIn, ctx: CtxDep) -> EmbeddingModel:
    """Declare an embedding model and its dimension (idempotent; another dimension: 422)."""
    async with ctx.session() as s:
        try:
            known = await s.embeddings.model(body.name)
        except pgrecall.NotFoundError:
            pass
        else:
            if known.dimensions != body.dimensions:
                raise pgrecall.ConflictError(
                    f"embedding model {body.name!r} is declared with {known.dimensions} "
                    "dimensions: a model's vectors all have one length"
                )
        model = await s.embeddings.declare_model(
            body.name, dimensions=body.dimensions, description=body.description
        )
    return model


@router.post(
    "/v1/embeddings", status_code=201, tags=["embeddings"], responses=responses(404, 409, body=True)
)
async def add_embedding(body: EmbeddingIn, ctx: CtxDep) -> Embedding:
    """Store a chunk and its vector (the model must be declared; 422 on a wrong length)."""
    async with ctx.session() as s:
        await fits(s, body.model, body.embedding)
        emb = await s.embeddings.add(**body.model_dump(exclude_unset=True))
    return emb


@router.get("/v1/embeddings/{id}", tags=["embeddings"], responses=_404)
async def get_embedding(id: UUID, ctx: CtxDep) -> Embedding:
    async with ctx.session() as s:
        emb = await s.embeddings.get(id)
    return emb


@router.post("/v1/search/text", tags=["search"], responses=responses(body=True))
async def search_text(body: TextSearchIn, ctx: CtxDep) -> list[DocumentHit]:
    """Documents matching web-search-style text (`"quoted phrase" -excluded or`)."""
    async with ctx.session() as s:
        hits = await s.search.text(**body.model_dump(exclude_unset=True))
    return hits


@router.post("/v1/search/vector", tags=["search"], responses=responses(404, 409, body=True))
async def search_vector(body: VectorSearchIn, ctx: CtxDep) -> list[VectorHit]:
    """Nearest chunks by cosine distance, with the metadata filters."""
    async with ctx.session() as s:
        await fits(s, body.model, body.embedding)
        hits = await s.search.vector(**body.model_dump(exclude_unset=True))
    return hits


@router.post("/v1/search/hybrid", tags=["search"], responses=responses(404, 409, body=True))
async def search_hybrid(body: HybridSearchIn, ctx: CtxDep) -> list[HybridHit]:
    """Text and vector search fused by reciprocal rank."""
    async with ctx.session() as s:
        await fits(s, body.model, body.embedding)
        hits = await s.search.hybrid(**body.model_dump(exclude_unset=True))
    return hits


@router.post(
    "/v1/memories", status_code=201, tags=["memories"], responses=responses(404, 409, body=True)
)
async def add_memory(body: MemoryIn, ctx: CtxDep) -> Memory:
    fields = body.model_dump(exclude_unset=True, exclude={"embedding"})
    async with ctx.session() as s:
        if body.embedding is not None:
            await fits(s, body.embedding.model, body.embedding.vector)
            fields |= {"embedding": body.embedding.vector, "model": body.embedding.model}
        memory = await s.memories.add(**fields)
    return memory


@router.post("/v1/memories/recall", tags=["memories"], responses=responses(404, 409, body=True))
async def recall(body: RecallIn, ctx: CtxDep) -> list[RecalledMemory]:
    """The memories most relevant to `embedding`, by relevance, importance and recency."""
    async with ctx.session() as s:
        await fits(s, body.model, body.embedding)
        found = await s.memories.recall(**body.model_dump(exclude_unset=True))
    return found


@router.get("/v1/memories/{id}", tags=["memories"], responses=_404)
async def get_memory(id: UUID, ctx: CtxDep) -> Memory:
    async with ctx.session() as s:
        memory = await s.memories.get(id)
    return memory


@router.delete("/v1/memories/{id}", status_code=204, tags=["memories"], responses=_404)
async def forget_memory(id: UUID, ctx: CtxDep) -> Response:
    async with ctx.session() as s:
        await s.memories.get(id)
        await s.memories.forget(id)
    return Response(status_code=204)
