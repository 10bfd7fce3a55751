-- 0010 memories_persona_idx: the index behind memories_persona_fkey (0011).
-- transactional: false
--
-- memories is a table of an earlier migration: the index is built CONCURRENTLY
-- (writes go on), which cannot run inside a transaction.

CREATE INDEX CONCURRENTLY IF NOT EXISTS memories_persona_idx
    ON pgrecall.memories (tenant_id, persona_id) WHERE persona_id IS NOT NULL;

COMMENT ON INDEX pgrecall.memories_persona_idx IS
    'Memories of a persona; serves the ON DELETE SET NULL of memories_persona_fkey.';
