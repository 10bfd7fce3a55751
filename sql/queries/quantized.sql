-- Binary-quantized vector search with exact re-ranking (migration 0021).

-- name: search_vector_quantized :many
-- @returns pgrecall.models:VectorHit
-- The k chunks of a 3,072-dimensional :model nearest to :embedding: the :candidates
-- nearest by Hamming distance between sign bits (HNSW embeddings_bq_3072_idx over
-- binary_quantize(embedding)::bit(3072); run set_vector_search first), re-ranked by the
-- exact cosine distance.
WITH candidates AS MATERIALIZED (
    SELECT e.id
    FROM pgrecall.embeddings AS e
    WHERE e.tenant_id = :tenant_id
      AND e.dimensions = 3072
      AND e.model = :model
    ORDER BY binary_quantize(e.embedding)::bit(3072)
             <~> binary_quantize(:embedding::vector(3072))::bit(3072)
    LIMIT :candidates
),
nearest AS (
    SELECT e.id, e.document_id, e.analysis_id, e.memory_id, e.chunk_index, e.content, e.model,
           e.source, e.embedding::vector(3072) <=> :embedding::vector(3072) AS distance
    FROM candidates AS c
    JOIN pgrecall.embeddings AS e ON e.tenant_id = :tenant_id AND e.id = c.id
    ORDER BY distance
    LIMIT :k
)
SELECT id, document_id, analysis_id, memory_id, chunk_index, content, model, source, distance,
       1 - distance AS similarity
FROM nearest
ORDER BY distance, id;
