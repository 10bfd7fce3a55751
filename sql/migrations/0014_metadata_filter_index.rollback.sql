-- transactional: false
DROP INDEX CONCURRENTLY IF EXISTS pgrecall.embeddings_source_idx;
