-- Back to the state before 0018: the ON DELETE SET NULL (col) foreign keys, no unlink triggers.
ALTER TABLE pgrecall.documents DROP CONSTRAINT documents_conversation_fkey;
ALTER TABLE pgrecall.documents
    ADD CONSTRAINT documents_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);

ALTER TABLE pgrecall.memories DROP CONSTRAINT memories_conversation_fkey;
ALTER TABLE pgrecall.memories
    ADD CONSTRAINT memories_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);

ALTER TABLE pgrecall.memories DROP CONSTRAINT memories_message_fkey;
ALTER TABLE pgrecall.memories
    ADD CONSTRAINT memories_message_fkey FOREIGN KEY (tenant_id, message_id)
        REFERENCES pgrecall.messages (tenant_id, id) ON DELETE SET NULL (message_id);

ALTER TABLE pgrecall.runs DROP CONSTRAINT runs_conversation_fkey;
ALTER TABLE pgrecall.runs
    ADD CONSTRAINT runs_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);
COMMENT ON CONSTRAINT runs_conversation_fkey ON pgrecall.runs IS
    'Run of a conversation; purging the conversation keeps the run and clears the link.';

ALTER TABLE pgrecall.runs DROP CONSTRAINT runs_user_fkey;
ALTER TABLE pgrecall.runs
    ADD CONSTRAINT runs_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES pgrecall.users (tenant_id, user_id) ON DELETE SET NULL (user_id);
COMMENT ON CONSTRAINT runs_user_fkey ON pgrecall.runs IS
    'Run of a user; deleting the user keeps the run and clears the link.';

ALTER TABLE pgrecall.conversations DROP CONSTRAINT conversations_persona_fkey;
ALTER TABLE pgrecall.conversations
    ADD CONSTRAINT conversations_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) ON DELETE SET NULL (persona_id);
COMMENT ON CONSTRAINT conversations_persona_fkey ON pgrecall.conversations IS
    'The conversation''s persona; deleting the persona clears persona_id (index conversations_persona_idx).';

ALTER TABLE pgrecall.documents DROP CONSTRAINT documents_run_fkey;
ALTER TABLE pgrecall.documents
    ADD CONSTRAINT documents_run_fkey FOREIGN KEY (tenant_id, run_id)
        REFERENCES pgrecall.runs (tenant_id, id) ON DELETE SET NULL (run_id);
COMMENT ON CONSTRAINT documents_run_fkey ON pgrecall.documents IS
    'The run that produced or received the document; deleting the run clears run_id (index documents_run_idx).';

ALTER TABLE pgrecall.memories DROP CONSTRAINT memories_persona_fkey;
ALTER TABLE pgrecall.memories
    ADD CONSTRAINT memories_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) ON DELETE SET NULL (persona_id);
COMMENT ON CONSTRAINT memories_persona_fkey ON pgrecall.memories IS
    'The persona the memory belongs to; deleting the persona clears persona_id (index memories_persona_idx).';

DROP TRIGGER IF EXISTS runs_unlink ON pgrecall.runs;
DROP TRIGGER IF EXISTS personas_unlink ON pgrecall.personas;
DROP TRIGGER IF EXISTS users_unlink ON pgrecall.users;
DROP TRIGGER IF EXISTS messages_unlink ON pgrecall.messages;
DROP TRIGGER IF EXISTS conversations_unlink ON pgrecall.conversations;
DROP FUNCTION IF EXISTS pgrecall.runs_unlink();
DROP FUNCTION IF EXISTS pgrecall.personas_unlink();
DROP FUNCTION IF EXISTS pgrecall.users_unlink();
DROP FUNCTION IF EXISTS pgrecall.messages_unlink();
DROP FUNCTION IF EXISTS pgrecall.conversations_unlink();
