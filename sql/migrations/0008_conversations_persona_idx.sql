-- 0008 conversations_persona_idx: the index behind conversations_persona_fkey (0007).
-- transactional: false
--
-- conversations is a table of an earlier migration: the index is built CONCURRENTLY
-- (writes go on), which cannot run inside a transaction.

CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_persona_idx
    ON pgrecall.conversations (tenant_id, persona_id) WHERE persona_id IS NOT NULL;

COMMENT ON INDEX pgrecall.conversations_persona_idx IS
    'Conversations of a persona; serves the ON DELETE SET NULL of conversations_persona_fkey.';
