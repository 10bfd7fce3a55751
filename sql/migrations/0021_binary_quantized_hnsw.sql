-- 0021 binary_quantized_hnsw: an optional binary-quantized HNSW index for 3,072-dimensional
-- models, for s.search.vector_quantized (candidates by Hamming distance between the sign
-- bits, re-ranked by exact cosine distance).
-- transactional: false
--
-- One bit per dimension: the index is ~1/16 of the halfvec index of 0020 and much faster
-- to build and search; the exact re-rank over :candidates rows restores most of the
-- recall (bench: 3,072-d search, quantized). embeddings exists already: CONCURRENTLY.

CREATE INDEX CONCURRENTLY IF NOT EXISTS embeddings_bq_3072_idx ON pgrecall.embeddings
    USING hnsw ((binary_quantize(embedding)::bit(3072)) bit_hamming_ops)
    WHERE dimensions = 3072;

COMMENT ON INDEX pgrecall.embeddings_bq_3072_idx IS
    'Binary-quantized vector search, 3072-dimensional models (Hamming; re-ranked exactly).';
