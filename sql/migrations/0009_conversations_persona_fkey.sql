-- 0009 conversations_persona_fkey: validate the foreign key conversations.persona_id ->
-- personas that 0007 added NOT VALID. VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE on
-- conversations, so reads and writes go on while it checks the existing rows.
--
-- persona_id had no foreign key before 0007: should a value name no persona, this fails
-- with SQLSTATE 23503. Clear such links (as a role that bypasses row level security),
-- then apply again:
--   UPDATE pgrecall.conversations c SET persona_id = NULL WHERE persona_id IS NOT NULL
--     AND NOT EXISTS (SELECT 1 FROM pgrecall.personas p
--                     WHERE p.tenant_id = c.tenant_id AND p.id = c.persona_id);

ALTER TABLE pgrecall.conversations VALIDATE CONSTRAINT conversations_persona_fkey;
