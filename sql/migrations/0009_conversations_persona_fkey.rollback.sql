-- Back to the state after 0007: the foreign key exists but is NOT VALID.
ALTER TABLE pgrecall.conversations DROP CONSTRAINT conversations_persona_fkey;
ALTER TABLE pgrecall.conversations
    ADD CONSTRAINT conversations_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) ON DELETE SET NULL (persona_id)
        NOT VALID;
COMMENT ON CONSTRAINT conversations_persona_fkey ON pgrecall.conversations IS
    'The conversation''s persona; deleting the persona clears persona_id (index conversations_persona_idx).';
