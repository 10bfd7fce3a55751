-- transactional: false
DROP INDEX CONCURRENTLY IF EXISTS pgrecall.memories_persona_idx;
