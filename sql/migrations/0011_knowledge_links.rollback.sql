ALTER TABLE pgrecall.memories DROP CONSTRAINT IF EXISTS memories_persona_fkey;
ALTER TABLE pgrecall.documents DROP CONSTRAINT IF EXISTS documents_run_fkey;
