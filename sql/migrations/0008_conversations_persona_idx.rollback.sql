-- transactional: false
DROP INDEX CONCURRENTLY IF EXISTS pgrecall.conversations_persona_idx;
