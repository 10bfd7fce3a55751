-- 0011 knowledge_links: the foreign keys 0003 could not have yet, added NOT VALID
-- (no scan of existing rows; new rows are checked from now on):
--   documents.run_id    -> runs      (0005), ON DELETE SET NULL: a document outlives its run;
--   memories.persona_id -> personas  (0007), ON DELETE SET NULL: a memory outlives its persona.
-- 0012 validates them.

ALTER TABLE pgrecall.documents
    ADD CONSTRAINT documents_run_fkey FOREIGN KEY (tenant_id, run_id)
        REFERENCES pgrecall.runs (tenant_id, id) ON DELETE SET NULL (run_id)
        NOT VALID;
COMMENT ON CONSTRAINT documents_run_fkey ON pgrecall.documents IS
    'The run that produced or received the document; deleting the run clears run_id (index documents_run_idx).';

ALTER TABLE pgrecall.memories
    ADD CONSTRAINT memories_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) ON DELETE SET NULL (persona_id)
        NOT VALID;
COMMENT ON CONSTRAINT memories_persona_fkey ON pgrecall.memories IS
    'The persona the memory belongs to; deleting the persona clears persona_id (index memories_persona_idx).';
