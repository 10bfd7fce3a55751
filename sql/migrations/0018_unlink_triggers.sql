-- 0018 unlink_triggers: the eight ON DELETE SET NULL (col) foreign keys become plain
-- (NO ACTION) foreign keys plus BEFORE DELETE triggers on the referenced tables that
-- clear the link first. Same result as before on one server -- deleting the parent keeps
-- the child rows and clears their column, tenant_id stays -- and a schema Citus can
-- distribute: Citus refuses SET NULL / SET DEFAULT actions when the distribution column
-- (tenant_id) is part of the key.
--
--   parent (trigger)        clears
--   conversations_unlink    documents.conversation_id, memories.conversation_id, runs.conversation_id
--   messages_unlink         memories.message_id
--   users_unlink            runs.user_id
--   personas_unlink         conversations.persona_id, memories.persona_id
--   runs_unlink             documents.run_id
--
-- The triggers touch only rows of the deleted row's tenant (WHERE tenant_id =
-- OLD.tenant_id), which on Citus live in the co-located shard: correct on shards.
-- They run as the caller under row level security, in the tenant of the DELETE (the
-- parent row is visible, so are its children). The foreign keys still guard the links:
-- anything the trigger did not clear makes the DELETE fail (23503), never dangle.
-- The keys are added NOT VALID here (brief lock, no scan); 0019 validates them.

CREATE FUNCTION pgrecall.conversations_unlink() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE pgrecall.documents AS d SET conversation_id = NULL
     WHERE d.tenant_id = OLD.tenant_id AND d.conversation_id = OLD.id;
    UPDATE pgrecall.memories AS m SET conversation_id = NULL
     WHERE m.tenant_id = OLD.tenant_id AND m.conversation_id = OLD.id;
    UPDATE pgrecall.runs AS r SET conversation_id = NULL
     WHERE r.tenant_id = OLD.tenant_id AND r.conversation_id = OLD.id;
    RETURN OLD;
END
$$;

COMMENT ON FUNCTION pgrecall.conversations_unlink() IS
    'BEFORE DELETE on conversations: clears documents / memories / runs .conversation_id of the '
    'conversation (what ON DELETE SET NULL did; Citus refuses that action on distributed keys).';

CREATE TRIGGER conversations_unlink BEFORE DELETE ON pgrecall.conversations
    FOR EACH ROW EXECUTE FUNCTION pgrecall.conversations_unlink();

CREATE FUNCTION pgrecall.messages_unlink() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE pgrecall.memories AS m SET message_id = NULL
     WHERE m.tenant_id = OLD.tenant_id AND m.message_id = OLD.id;
    RETURN OLD;
END
$$;

COMMENT ON FUNCTION pgrecall.messages_unlink() IS
    'BEFORE DELETE on messages (runs after messages_immutable, i.e. only in a conversation purge): '
    'clears memories.message_id of the message.';

CREATE TRIGGER messages_unlink BEFORE DELETE ON pgrecall.messages
    FOR EACH ROW EXECUTE FUNCTION pgrecall.messages_unlink();

CREATE FUNCTION pgrecall.users_unlink() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE pgrecall.runs AS r SET user_id = NULL
     WHERE r.tenant_id = OLD.tenant_id AND r.user_id = OLD.user_id;
    RETURN OLD;
END
$$;

COMMENT ON FUNCTION pgrecall.users_unlink() IS
    'BEFORE DELETE on users: clears runs.user_id of the user (the run is kept).';

CREATE TRIGGER users_unlink BEFORE DELETE ON pgrecall.users
    FOR EACH ROW EXECUTE FUNCTION pgrecall.users_unlink();

CREATE FUNCTION pgrecall.personas_unlink() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE pgrecall.conversations AS c SET persona_id = NULL
     WHERE c.tenant_id = OLD.tenant_id AND c.persona_id = OLD.id;
    UPDATE pgrecall.memories AS m SET persona_id = NULL
     WHERE m.tenant_id = OLD.tenant_id AND m.persona_id = OLD.id;
    RETURN OLD;
END
$$;

COMMENT ON FUNCTION pgrecall.personas_unlink() IS
    'BEFORE DELETE on personas: clears conversations.persona_id and memories.persona_id.';

CREATE TRIGGER personas_unlink BEFORE DELETE ON pgrecall.personas
    FOR EACH ROW EXECUTE FUNCTION pgrecall.personas_unlink();

CREATE FUNCTION pgrecall.runs_unlink() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE pgrecall.documents AS d SET run_id = NULL
     WHERE d.tenant_id = OLD.tenant_id AND d.run_id = OLD.id;
    RETURN OLD;
END
$$;

COMMENT ON FUNCTION pgrecall.runs_unlink() IS
    'BEFORE DELETE on runs: clears documents.run_id of the run (the document is kept).';

CREATE TRIGGER runs_unlink BEFORE DELETE ON pgrecall.runs
    FOR EACH ROW EXECUTE FUNCTION pgrecall.runs_unlink();

-- The foreign keys, same names, NO ACTION (checked at the end of the statement, after
-- the triggers cleared the links).
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

GRANT EXECUTE ON FUNCTION pgrecall.conversations_unlink(), pgrecall.messages_unlink(),
    pgrecall.users_unlink(), pgrecall.personas_unlink(), pgrecall.runs_unlink() TO pgrecall_app;
