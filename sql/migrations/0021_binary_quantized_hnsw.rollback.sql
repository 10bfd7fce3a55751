-- transactional: false
DROP INDEX CONCURRENTLY IF EXISTS pgrecall.embeddings_bq_3072_idx;
