-- transactional: false
DROP INDEX CONCURRENTLY IF EXISTS pgrecall.memories_hnsw_3072_idx;
DROP INDEX CONCURRENTLY IF EXISTS pgrecall.embeddings_hnsw_3072_idx;
