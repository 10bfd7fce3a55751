-- name: add_analysis :one
-- @returns pgrecall.models:Analysis
-- Add an analysis of a document. The trigger analyses_before_insert assigns the next
-- version under the document row lock (PR404 when the document does not exist) and
-- refreshes the document's full-text lexemes.
INSERT INTO pgrecall.analyses AS a
    (tenant_id, document_id, category, summary, tags, raw_response, provider, model, trace_id)
VALUES
    (:tenant_id, :document_id, :category, :summary, :tags, :raw_response, :provider, :model,
     :trace_id)
RETURNING a.tenant_id, a.id, a.document_id, a.version, a.category, a.summary, a.tags,
          a.raw_response, a.provider, a.model, a.trace_id, a.created_at;

-- name: get_analysis :one
-- @returns pgrecall.models:Analysis
-- One analysis by id.
SELECT tenant_id, id, document_id, version, category, summary, tags, raw_response, provider,
       model, trace_id, created_at
FROM pgrecall.analyses
WHERE tenant_id = :tenant_id AND id = :id;

-- name: get_analysis_version :one
-- @returns pgrecall.models:Analysis
-- One version of a document's analysis (index analyses_version_key).
SELECT tenant_id, id, document_id, version, category, summary, tags, raw_response, provider,
       model, trace_id, created_at
FROM pgrecall.analyses
WHERE tenant_id = :tenant_id AND document_id = :document_id AND version = :version;

-- name: latest_analyses :many
-- @returns pgrecall.models:Analysis
-- The latest analysis of each of :document_ids (documents without one are absent), in
-- one statement: a backward scan of analyses_version_key per document.
SELECT a.tenant_id, a.id, a.document_id, a.version, a.category, a.summary, a.tags,
       a.raw_response, a.provider, a.model, a.trace_id, a.created_at
FROM unnest(:document_ids::uuid[]) AS wanted (document_id)
CROSS JOIN LATERAL (
    SELECT tenant_id, id, document_id, version, category, summary, tags, raw_response,
           provider, model, trace_id, created_at
    FROM pgrecall.analyses
    WHERE tenant_id = :tenant_id AND document_id = wanted.document_id
    ORDER BY version DESC
    LIMIT 1
) AS a
ORDER BY a.document_id;

-- name: analysis_history :many
-- @returns pgrecall.models:Analysis
-- Every version of a document's analysis, newest first.
SELECT tenant_id, id, document_id, version, category, summary, tags, raw_response, provider,
       model, trace_id, created_at
FROM pgrecall.analyses
WHERE tenant_id = :tenant_id AND document_id = :document_id
ORDER BY version DESC
LIMIT :limit;
