-- Back to the state after 0018: the foreign keys exist but are NOT VALID.
ALTER TABLE pgrecall.documents DROP CONSTRAINT documents_conversation_fkey;
ALTER TABLE pgrecall.documents
    ADD CONSTRAINT documents_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) NOT VALID;
COMMENT ON CONSTRAINT documents_conversation_fkey ON pgrecall.documents IS
    'The conversation the document was shared in; purging it clears conversation_id (trigger conversations_unlink).';
ALTER TABLE pgrecall.memories DROP CONSTRAINT memories_conversation_fkey;
ALTER TABLE pgrecall.memories
    ADD CONSTRAINT memories_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) NOT VALID;
COMMENT ON CONSTRAINT memories_conversation_fkey ON pgrecall.memories IS
    'The conversation of the memory; purging it clears conversation_id (trigger conversations_unlink).';
ALTER TABLE pgrecall.memories DROP CONSTRAINT memories_message_fkey;
ALTER TABLE pgrecall.memories
    ADD CONSTRAINT memories_message_fkey FOREIGN KEY (tenant_id, message_id)
        REFERENCES pgrecall.messages (tenant_id, id) NOT VALID;
COMMENT ON CONSTRAINT memories_message_fkey ON pgrecall.memories IS
    'The message the memory was drawn from; purging its conversation clears message_id (trigger messages_unlink).';
ALTER TABLE pgrecall.runs DROP CONSTRAINT runs_conversation_fkey;
ALTER TABLE pgrecall.runs
    ADD CONSTRAINT runs_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) NOT VALID;
COMMENT ON CONSTRAINT runs_conversation_fkey ON pgrecall.runs IS
    'Run of a conversation; purging the conversation keeps the run and clears the link (trigger conversations_unlink).';
ALTER TABLE pgrecall.runs DROP CONSTRAINT runs_user_fkey;
ALTER TABLE pgrecall.runs
    ADD CONSTRAINT runs_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES pgrecall.users (tenant_id, user_id) NOT VALID;
COMMENT ON CONSTRAINT runs_user_fkey ON pgrecall.runs IS
    'Run of a user; deleting the user keeps the run and clears the link (trigger users_unlink).';
ALTER TABLE pgrecall.conversations DROP CONSTRAINT conversations_persona_fkey;
ALTER TABLE pgrecall.conversations
    ADD CONSTRAINT conversations_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) NOT VALID;
COMMENT ON CONSTRAINT conversations_persona_fkey ON pgrecall.conversations IS
    'The conversation''s persona; deleting the persona clears persona_id (trigger personas_unlink).';
ALTER TABLE pgrecall.documents DROP CONSTRAINT documents_run_fkey;
ALTER TABLE pgrecall.documents
    ADD CONSTRAINT documents_run_fkey FOREIGN KEY (tenant_id, run_id)
        REFERENCES pgrecall.runs (tenant_id, id) NOT VALID;
COMMENT ON CONSTRAINT documents_run_fkey ON pgrecall.documents IS
    'The run that produced or received the document; deleting the run clears run_id (trigger runs_unlink).';
ALTER TABLE pgrecall.memories DROP CONSTRAINT memories_persona_fkey;
ALTER TABLE pgrecall.memories
    ADD CONSTRAINT memories_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) NOT VALID;
COMMENT ON CONSTRAINT memories_persona_fkey ON pgrecall.memories IS
    'The persona the memory belongs to; deleting the persona clears persona_id (trigger personas_unlink).';
