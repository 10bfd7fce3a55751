-- 0012 knowledge_links_validate: validate the foreign keys 0011 added NOT VALID.
-- VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE, so reads and writes go on while it
-- checks the existing rows.
--
-- Should an existing run_id / persona_id name no row, this fails with SQLSTATE 23503.
-- Clear such links (as a role that bypasses row level security), then apply again, e.g.:
--   UPDATE pgrecall.documents d SET run_id = NULL WHERE run_id IS NOT NULL
--     AND NOT EXISTS (SELECT 1 FROM pgrecall.runs r WHERE r.tenant_id = d.tenant_id AND r.id = d.run_id);

ALTER TABLE pgrecall.documents VALIDATE CONSTRAINT documents_run_fkey;
ALTER TABLE pgrecall.memories VALIDATE CONSTRAINT memories_persona_fkey;
