ALTER TABLE pgrecall.conversations DROP CONSTRAINT IF EXISTS conversations_persona_fkey;
DROP TABLE IF EXISTS pgrecall.conversation_states;
DROP TABLE IF EXISTS pgrecall.persona_modules;
DROP TABLE IF EXISTS pgrecall.modules;
DROP TABLE IF EXISTS pgrecall.personas;
