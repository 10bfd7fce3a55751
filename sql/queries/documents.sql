-- name: add_document :one
-- @returns pgrecall.models:Document
-- Store a document. With a sha256 already stored in this tenant nothing is inserted
-- (documents_sha256_key) and no row comes back: the caller reads the existing one.
INSERT INTO pgrecall.documents AS d
    (tenant_id, filename, original_filename, storage_uri, size_bytes, mime_type, sha256,
     title, source, conversation_id, run_id, metadata)
VALUES
    (:tenant_id, :filename, :original_filename, :storage_uri, :size_bytes, :mime_type, :sha256,
     :title, :source, :conversation_id, :run_id, :metadata)
ON CONFLICT (tenant_id, sha256) DO NOTHING
RETURNING d.tenant_id, d.id, d.filename, d.original_filename, d.storage_uri, d.size_bytes,
          d.mime_type, d.sha256, d.title, d.source, d.conversation_id, d.run_id, d.metadata,
          d.analysis_version, d.created_at, d.updated_at;

-- name: get_document :one
-- @returns pgrecall.models:Document
-- One document by id.
SELECT tenant_id, id, filename, original_filename, storage_uri, size_bytes, mime_type, sha256,
       title, source, conversation_id, run_id, metadata, analysis_version, created_at, updated_at
FROM pgrecall.documents
WHERE tenant_id = :tenant_id AND id = :id;

-- name: get_document_by_sha256 :one
-- @returns pgrecall.models:Document
-- The document with this content hash (index documents_sha256_key).
SELECT tenant_id, id, filename, original_filename, storage_uri, size_bytes, mime_type, sha256,
       title, source, conversation_id, run_id, metadata, analysis_version, created_at, updated_at
FROM pgrecall.documents
WHERE tenant_id = :tenant_id AND sha256 = :sha256;

-- name: list_documents :many
-- @returns pgrecall.models:Document
-- Documents newest first, filtered (each filter is skipped when NULL; metadata by
-- containment, '{}' matches all) and keyset-paged on (created_at, id): pass the last
-- row's values for the next page. Index: documents_created_idx (or the filter's index).
SELECT tenant_id, id, filename, original_filename, storage_uri, size_bytes, mime_type, sha256,
       title, source, conversation_id, run_id, metadata, analysis_version, created_at, updated_at
FROM pgrecall.documents
WHERE tenant_id = :tenant_id
  AND (:conversation_id::uuid IS NULL OR conversation_id = :conversation_id::uuid)
  AND (:run_id::uuid IS NULL OR run_id = :run_id::uuid)
  AND (:source::text IS NULL OR source = :source::text)
  AND (:mime_type::text IS NULL OR mime_type = :mime_type::text)
  AND metadata @> :metadata
  AND (:before_created::timestamptz IS NULL
       OR (created_at, id) < (:before_created::timestamptz, :before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: count_documents :scalar
-- @returns int
-- How many documents the tenant has.
SELECT count(*)::integer
FROM pgrecall.documents
WHERE tenant_id = :tenant_id;

-- name: update_document :one
-- @returns pgrecall.models:Document
-- Change title, source and metadata: NULL keeps a value; :metadata replaces the
-- object, :metadata_patch is merged into it (top-level keys, jsonb ||). The trigger
-- documents_search_vector refreshes the full-text lexemes.
UPDATE pgrecall.documents AS d
SET title = coalesce(:title::text, d.title),
    source = coalesce(:source::text, d.source),
    metadata = coalesce(:metadata::jsonb, d.metadata) || coalesce(:metadata_patch::jsonb, '{}')
WHERE d.tenant_id = :tenant_id AND d.id = :id
RETURNING d.tenant_id, d.id, d.filename, d.original_filename, d.storage_uri, d.size_bytes,
          d.mime_type, d.sha256, d.title, d.source, d.conversation_id, d.run_id, d.metadata,
          d.analysis_version, d.created_at, d.updated_at;

-- name: delete_document :exec
-- Delete a document; its analyses and embeddings go with it (ON DELETE CASCADE).
DELETE FROM pgrecall.documents
WHERE tenant_id = :tenant_id AND id = :id;
