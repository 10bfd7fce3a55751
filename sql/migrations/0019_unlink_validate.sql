-- 0019 unlink_validate: validate the eight foreign keys 0018 re-added NOT VALID.
-- VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE, so reads and writes go on while it
-- checks the existing rows. The rows were checked by the same keys before 0018 (then
-- with ON DELETE SET NULL), so this finds nothing to refuse.

ALTER TABLE pgrecall.documents VALIDATE CONSTRAINT documents_conversation_fkey;
ALTER TABLE pgrecall.memories VALIDATE CONSTRAINT memories_conversation_fkey;
ALTER TABLE pgrecall.memories VALIDATE CONSTRAINT memories_message_fkey;
ALTER TABLE pgrecall.runs VALIDATE CONSTRAINT runs_conversation_fkey;
ALTER TABLE pgrecall.runs VALIDATE CONSTRAINT runs_user_fkey;
ALTER TABLE pgrecall.conversations VALIDATE CONSTRAINT conversations_persona_fkey;
ALTER TABLE pgrecall.documents VALIDATE CONSTRAINT documents_run_fkey;
ALTER TABLE pgrecall.memories VALIDATE CONSTRAINT memories_persona_fkey;
