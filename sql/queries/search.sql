-- name: set_vector_search :exec
-- Per-transaction HNSW settings for the searches that follow (SET LOCAL semantics):
-- iterative scans (pgvector 0.8) keep reading the index until enough rows pass the
-- filters, so a filtered search returns k rows when k exist; ef_search is the
-- candidate list size (recall vs speed); max_scan_tuples caps an iterative scan.
-- plan_cache_mode: the prepared search statements are planned for their parameters
-- every time; a generic plan (chosen after a few dozen executions on a connection,
-- when the HNSW cost at a high ef_search exceeds it) scans the tenant's rows through
-- the b-tree and GIN indexes instead of the HNSW index: 100x slower at 30k rows.
SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
       set_config('hnsw.ef_search', :ef_search::integer::text, true),
       set_config('hnsw.max_scan_tuples', :max_scan_tuples::integer::text, true),
       set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: search_text :many
-- @returns pgrecall.models:DocumentHit
-- Documents matching the user's text (websearch_to_tsquery: quotes, OR, -word; any
-- input is valid), best first by ts_rank over the weighted lexemes (title A, category
-- and tags B, summary C, file name and metadata D), with a highlighted snippet of
-- the title and the latest analysis summary. Index: documents_search_idx.
-- `true /* filter */` is where the library splices a compiled metadata filter on
-- d.metadata (pgrecall.query.filters; documents_metadata_idx serves containment).
WITH query AS (
    SELECT websearch_to_tsquery(:config::regconfig, :q) AS tsq
),
hits AS (
    SELECT d.id, d.title, d.filename, d.mime_type, d.metadata, d.analysis_version,
           ts_rank(d.search_vector, query.tsq) AS rank
    FROM pgrecall.documents AS d, query
    WHERE d.tenant_id = :tenant_id
      AND d.search_vector @@ query.tsq
      AND (:conversation_id::uuid IS NULL OR d.conversation_id = :conversation_id::uuid)
      AND d.metadata @> :metadata
      AND true /* filter */
    ORDER BY rank DESC, d.id
    LIMIT :k
)
SELECT h.id AS document_id, h.title, h.filename, h.mime_type, h.metadata,
       a.category, coalesce(a.tags, '{}') AS tags, h.rank,
       ts_headline(:config::regconfig, concat_ws(E'\n', nullif(h.title, ''), a.summary),
                   query.tsq, 'MaxFragments=2, MinWords=5, MaxWords=25') AS snippet
FROM hits AS h
CROSS JOIN query
LEFT JOIN pgrecall.analyses AS a
       ON a.tenant_id = :tenant_id AND a.document_id = h.id AND a.version = h.analysis_version
ORDER BY h.rank DESC, h.id;

-- name: search_chunks :many
-- @returns pgrecall.models:ChunkHit
-- Chunks whose content matches the user's text, best first (ts_rank), with a
-- highlighted snippet. Filters (NULL = any): model, documents, the documents of a
-- conversation or with a metadata containment, chunk source containment ('{}' = any).
-- `true /* filter */` and `true /* document_filter */` are where the library splices
-- compiled metadata filters (pgrecall.query.filters) on e.source and on the chunk's
-- document's metadata; as written they filter nothing.
-- Index: embeddings_search_idx (embeddings_source_idx for source containment).
WITH query AS (
    SELECT websearch_to_tsquery(:config::regconfig, :q) AS tsq
),
hits AS (
    SELECT e.id, e.document_id, e.analysis_id, e.memory_id, e.chunk_index, e.content, e.model,
           e.source, ts_rank(e.search_vector, query.tsq) AS rank
    FROM pgrecall.embeddings AS e, query
    WHERE e.tenant_id = :tenant_id
      AND e.search_vector @@ query.tsq
      AND (:model::text IS NULL OR e.model = :model::text)
      AND (:document_ids::uuid[] IS NULL OR e.document_id = ANY(:document_ids::uuid[]))
      AND e.source @> :source
      AND true /* filter */
      AND true /* document_filter */
      AND ((:conversation_id::uuid IS NULL AND :document_metadata::jsonb IS NULL)
           OR e.document_id = ANY(ARRAY(
               SELECT d.id
               FROM pgrecall.documents AS d
               WHERE d.tenant_id = :tenant_id
                 AND (:conversation_id::uuid IS NULL OR d.conversation_id = :conversation_id::uuid)
                 AND d.metadata @> coalesce(:document_metadata::jsonb, '{}'))))
    ORDER BY rank DESC, e.id
    LIMIT :k
)
SELECT h.id, h.document_id, h.analysis_id, h.memory_id, h.chunk_index, h.content, h.model,
       h.source, h.rank,
       ts_headline(:config::regconfig, h.content, query.tsq,
                   'MaxFragments=2, MinWords=5, MaxWords=25') AS snippet
FROM hits AS h
CROSS JOIN query
ORDER BY h.rank DESC, h.id;

-- name: search_vector :many
-- @returns pgrecall.models:VectorHit
-- @dims 384
-- Written for 384 dimensions: the library replaces `vector(384)` and `dimensions = 384`
-- with the model's dimension before running it, so that the cast and the literal match
-- the partial HNSW index of that dimension (embeddings_hnsw_<N>_idx).
-- The k chunks nearest to :embedding by cosine distance, among the chunks of :model
-- that pass the filters (as in search_chunks). Run set_vector_search first in the
-- transaction: with iterative scans the HNSW index (embeddings_hnsw_<N>_idx) keeps
-- going until k rows pass the filters; relaxed order is re-sorted here.
WITH nearest AS MATERIALIZED (
    SELECT e.id, e.document_id, e.analysis_id, e.memory_id, e.chunk_index, e.content, e.model,
           e.source, e.embedding::vector(384) <=> :embedding::vector(384) AS distance
    FROM pgrecall.embeddings AS e
    WHERE e.tenant_id = :tenant_id
      AND e.dimensions = 384
      AND e.model = :model
      AND (:document_ids::uuid[] IS NULL OR e.document_id = ANY(:document_ids::uuid[]))
      AND e.source @> :source
      AND true /* filter */
      AND true /* document_filter */
      AND ((:conversation_id::uuid IS NULL AND :document_metadata::jsonb IS NULL)
           OR e.document_id = ANY(ARRAY(
               SELECT d.id
               FROM pgrecall.documents AS d
               WHERE d.tenant_id = :tenant_id
                 AND (:conversation_id::uuid IS NULL OR d.conversation_id = :conversation_id::uuid)
                 AND d.metadata @> coalesce(:document_metadata::jsonb, '{}'))))
    ORDER BY distance
    LIMIT :k
)
SELECT id, document_id, analysis_id, memory_id, chunk_index, content, model, source, distance,
       1 - distance AS similarity
FROM nearest
ORDER BY distance, id;

-- name: search_hybrid :many
-- @returns pgrecall.models:HybridHit
-- @dims 384
-- (384 is replaced by the model's dimension, as in search_vector.) Reciprocal rank
-- fusion in one statement: the best :candidates chunks by keyword (ts_rank) and by
-- vector (cosine, HNSW) are ranked 1, 2, 3 ... each; a chunk scores
-- :text_weight / (:rrf_k + text_rank) + :vector_weight / (:rrf_k + vector_rank)
-- (a missing rank adds 0). Returns both ranks, the fused score, the cosine distance
-- and a highlighted snippet. Same filters as search_vector; run set_vector_search first.
WITH query AS (
    SELECT websearch_to_tsquery(:config::regconfig, :q) AS tsq
),
text_hits AS (
    SELECT e.id, ts_rank(e.search_vector, query.tsq) AS rank
    FROM pgrecall.embeddings AS e, query
    WHERE e.tenant_id = :tenant_id
      AND e.search_vector @@ query.tsq
      AND e.dimensions = 384
      AND e.model = :model
      AND (:document_ids::uuid[] IS NULL OR e.document_id = ANY(:document_ids::uuid[]))
      AND e.source @> :source
      AND true /* filter */
      AND true /* document_filter */
      AND ((:conversation_id::uuid IS NULL AND :document_metadata::jsonb IS NULL)
           OR e.document_id = ANY(ARRAY(
               SELECT d.id
               FROM pgrecall.documents AS d
               WHERE d.tenant_id = :tenant_id
                 AND (:conversation_id::uuid IS NULL OR d.conversation_id = :conversation_id::uuid)
                 AND d.metadata @> coalesce(:document_metadata::jsonb, '{}'))))
    ORDER BY rank DESC, e.id
    LIMIT :candidates
),
text_ranked AS (
    SELECT id, row_number() OVER (ORDER BY rank DESC, id) AS text_rank
    FROM text_hits
),
vector_hits AS MATERIALIZED (
    SELECT e.id, e.embedding::vector(384) <=> :embedding::vector(384) AS distance
    FROM pgrecall.embeddings AS e
    WHERE e.tenant_id = :tenant_id
      AND e.dimensions = 384
      AND e.model = :model
      AND (:document_ids::uuid[] IS NULL OR e.document_id = ANY(:document_ids::uuid[]))
      AND e.source @> :source
      AND true /* filter */
      AND true /* document_filter */
      AND ((:conversation_id::uuid IS NULL AND :document_metadata::jsonb IS NULL)
           OR e.document_id = ANY(ARRAY(
               SELECT d.id
               FROM pgrecall.documents AS d
               WHERE d.tenant_id = :tenant_id
                 AND (:conversation_id::uuid IS NULL OR d.conversation_id = :conversation_id::uuid)
                 AND d.metadata @> coalesce(:document_metadata::jsonb, '{}'))))
    ORDER BY distance
    LIMIT :candidates
),
vector_ranked AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS vector_rank
    FROM vector_hits
),
fused AS (
    SELECT coalesce(t.id, v.id) AS id, t.text_rank, v.vector_rank,
           coalesce(:text_weight::float8 / (:rrf_k::float8 + t.text_rank), 0)
           + coalesce(:vector_weight::float8 / (:rrf_k::float8 + v.vector_rank), 0) AS score
    FROM text_ranked AS t
    FULL JOIN vector_ranked AS v ON v.id = t.id
    ORDER BY score DESC, id
    LIMIT :k
)
SELECT e.id, e.document_id, e.analysis_id, e.memory_id, e.chunk_index, e.content, e.model,
       e.source, f.score, f.text_rank::integer AS text_rank, f.vector_rank::integer AS vector_rank,
       e.embedding::vector(384) <=> :embedding::vector(384) AS distance,
       ts_headline(:config::regconfig, e.content, query.tsq,
                   'MaxFragments=2, MinWords=5, MaxWords=25') AS snippet
FROM fused AS f
CROSS JOIN query
JOIN pgrecall.embeddings AS e ON e.tenant_id = :tenant_id AND e.id = f.id
ORDER BY f.score DESC, f.id;
