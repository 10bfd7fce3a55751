-- 0020 halfvec_hnsw: HNSW indexes for 3,072-dimensional models (e.g. OpenAI
-- text-embedding-3-large) as halfvec expression indexes.
-- transactional: false
--
-- HNSW indexes vector columns of at most 2,000 dimensions; halfvec (half precision)
-- goes to 4,000. The searches cast to halfvec(N) for 2,001-4,000 dimensions
-- (for_dimensions in areas/embeddings_async.py), which is the expression indexed here,
-- so a model declared with 3,072 dimensions is searched through this index with no
-- code change. embeddings and memories exist already: built CONCURRENTLY.
-- Another size from 2,001 to 4,000: the same two statements with its N.

CREATE INDEX CONCURRENTLY IF NOT EXISTS embeddings_hnsw_3072_idx ON pgrecall.embeddings
    USING hnsw ((embedding::halfvec(3072)) halfvec_cosine_ops) WHERE dimensions = 3072;

COMMENT ON INDEX pgrecall.embeddings_hnsw_3072_idx IS
    'Vector search, 3072-dimensional models (cosine, half precision: halfvec).';

CREATE INDEX CONCURRENTLY IF NOT EXISTS memories_hnsw_3072_idx ON pgrecall.memories
    USING hnsw ((embedding::halfvec(3072)) halfvec_cosine_ops) WHERE dimensions = 3072;

COMMENT ON INDEX pgrecall.memories_hnsw_3072_idx IS
    'recall, 3072-dimensional models (cosine, half precision: halfvec).';
