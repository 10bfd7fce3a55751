-- name: declare_embedding_model :one
-- @returns pgrecall.models:EmbeddingModel
-- Declare a model and its dimension (idempotent). For a name already declared with
-- the same dimension the stored row comes back (with a new description when given);
-- with another dimension nothing is written and no row comes back (the caller reads
-- the declared one to report the mismatch).
INSERT INTO pgrecall.embedding_models AS m (tenant_id, name, dimensions, description)
VALUES (:tenant_id, :name, :dimensions, :description)
ON CONFLICT (tenant_id, name) DO UPDATE
SET description = coalesce(EXCLUDED.description, m.description)
WHERE m.dimensions = EXCLUDED.dimensions
RETURNING m.tenant_id, m.name, m.dimensions, m.description, m.created_at;

-- name: get_embedding_model :one
-- @returns pgrecall.models:EmbeddingModel
-- One declared model by name.
SELECT tenant_id, name, dimensions, description, created_at
FROM pgrecall.embedding_models
WHERE tenant_id = :tenant_id AND name = :name;

-- name: list_embedding_models :many
-- @returns pgrecall.models:EmbeddingModel
-- The tenant's declared models, by name.
SELECT tenant_id, name, dimensions, description, created_at
FROM pgrecall.embedding_models
WHERE tenant_id = :tenant_id
ORDER BY name;

-- name: delete_embedding_model :exec
-- Remove a declared model; refused (foreign key) while vectors of it are stored.
DELETE FROM pgrecall.embedding_models
WHERE tenant_id = :tenant_id AND name = :name;

-- name: add_embedding :one
-- @returns pgrecall.models:Embedding
-- Store one chunk with its vector (:id NULL = a new UUID v7).
INSERT INTO pgrecall.embeddings AS e
    (tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
     dimensions, source)
VALUES
    (:tenant_id, coalesce(:id::uuid, pgrecall.uuid_v7()), :document_id, :analysis_id, :memory_id,
     :chunk_index, :content, :embedding, :model, :dimensions, :source)
RETURNING e.tenant_id, e.id, e.document_id, e.analysis_id, e.memory_id, e.chunk_index, e.content,
          e.embedding, e.model, e.dimensions, e.source, e.created_at;

-- name: upsert_embedding :one
-- @returns pgrecall.models:Embedding
-- Insert a chunk, or replace every field of the chunk with this id.
INSERT INTO pgrecall.embeddings AS e
    (tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
     dimensions, source)
VALUES
    (:tenant_id, :id, :document_id, :analysis_id, :memory_id, :chunk_index, :content, :embedding,
     :model, :dimensions, :source)
ON CONFLICT (tenant_id, id) DO UPDATE
SET document_id = EXCLUDED.document_id,
    analysis_id = EXCLUDED.analysis_id,
    memory_id = EXCLUDED.memory_id,
    chunk_index = EXCLUDED.chunk_index,
    content = EXCLUDED.content,
    embedding = EXCLUDED.embedding,
    model = EXCLUDED.model,
    dimensions = EXCLUDED.dimensions,
    source = EXCLUDED.source
RETURNING e.tenant_id, e.id, e.document_id, e.analysis_id, e.memory_id, e.chunk_index, e.content,
          e.embedding, e.model, e.dimensions, e.source, e.created_at;

-- name: create_embedding_stage :exec
-- The connection's staging table for bulk loads. COPY FROM is refused on tables with
-- row level security, so add_many copies (binary) into this temporary table and moves
-- the rows with one INSERT ... SELECT, which RLS checks. Emptied at every commit.
CREATE TEMPORARY TABLE IF NOT EXISTS pgrecall_embedding_stage (
    id           uuid    NOT NULL,
    document_id  uuid,
    analysis_id  uuid,
    memory_id    uuid,
    chunk_index  integer NOT NULL,
    content      text    NOT NULL,
    embedding    vector  NOT NULL,
    model        text    NOT NULL,
    dimensions   integer NOT NULL,
    source       jsonb   NOT NULL
) ON COMMIT DELETE ROWS;

-- name: copy_embedding_stage :copy
-- Binary COPY of chunks into the staging table.
COPY pg_temp.pgrecall_embedding_stage
    (id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model, dimensions,
     source)
FROM STDIN (FORMAT BINARY);

-- name: insert_embedding_stage :exec
-- Move the staged chunks into the tenant's embeddings (emptying the stage).
WITH staged AS (
    DELETE FROM pg_temp.pgrecall_embedding_stage
    RETURNING id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
              dimensions, source
)
INSERT INTO pgrecall.embeddings
    (tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
     dimensions, source)
SELECT :tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
       dimensions, source
FROM staged;

-- name: upsert_embedding_stage :exec
-- Move the staged chunks in, replacing the chunks that have the same ids.
WITH staged AS (
    DELETE FROM pg_temp.pgrecall_embedding_stage
    RETURNING id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
              dimensions, source
)
INSERT INTO pgrecall.embeddings AS e
    (tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
     dimensions, source)
SELECT :tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
       dimensions, source
FROM staged
ON CONFLICT (tenant_id, id) DO UPDATE
SET document_id = EXCLUDED.document_id,
    analysis_id = EXCLUDED.analysis_id,
    memory_id = EXCLUDED.memory_id,
    chunk_index = EXCLUDED.chunk_index,
    content = EXCLUDED.content,
    embedding = EXCLUDED.embedding,
    model = EXCLUDED.model,
    dimensions = EXCLUDED.dimensions,
    source = EXCLUDED.source;

-- name: get_embedding :one
-- @returns pgrecall.models:Embedding
-- One chunk, vector included.
SELECT tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
       dimensions, source, created_at
FROM pgrecall.embeddings
WHERE tenant_id = :tenant_id AND id = :id;

-- name: document_chunks :many
-- @returns pgrecall.models:Embedding
-- A document's chunks in order, vectors included (index embeddings_document_idx);
-- :model NULL = every model.
SELECT tenant_id, id, document_id, analysis_id, memory_id, chunk_index, content, embedding, model,
       dimensions, source, created_at
FROM pgrecall.embeddings
WHERE tenant_id = :tenant_id
  AND document_id = :document_id
  AND (:model::text IS NULL OR model = :model::text)
ORDER BY chunk_index, id
LIMIT :limit;

-- name: count_embeddings :scalar
-- @returns int
-- How many chunks the tenant has (of one model when :model is not NULL).
SELECT count(*)::integer
FROM pgrecall.embeddings
WHERE tenant_id = :tenant_id AND (:model::text IS NULL OR model = :model::text);

-- name: delete_embedding :exec
-- Delete one chunk.
DELETE FROM pgrecall.embeddings
WHERE tenant_id = :tenant_id AND id = :id;

-- name: delete_document_embeddings :exec
-- Delete a document's chunks (of one model when :model is not NULL), e.g. to re-embed it.
DELETE FROM pgrecall.embeddings
WHERE tenant_id = :tenant_id
  AND document_id = :document_id
  AND (:model::text IS NULL OR model = :model::text);
