-- 0002 core: users, conversations and append-only messages, with row level security
-- and the application role pgrecall_app.
--
-- Custom SQLSTATEs raised by the triggers (mapped to pgrecall errors):
--   PR404 not found (NotFoundError), PR409 illegal state change (ConflictError).

CREATE TABLE pgrecall.users (
    tenant_id     text        NOT NULL CONSTRAINT users_tenant_id_check CHECK (tenant_id <> ''),
    user_id       text        NOT NULL CONSTRAINT users_user_id_check CHECK (user_id <> ''),
    username      text,
    email         text,
    display_name  text,
    metadata      jsonb       NOT NULL DEFAULT '{}'
                              CONSTRAINT users_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT users_username_key UNIQUE (tenant_id, username)
);

COMMENT ON TABLE pgrecall.users IS
    'The application''s users, keyed by its own user id within a tenant. Optional profile: '
    'a row appears on first use (creating a conversation for an unknown user id inserts it).';
COMMENT ON COLUMN pgrecall.users.tenant_id IS 'Tenant (distribution column); RLS matches it to pgrecall.current_tenant().';
COMMENT ON COLUMN pgrecall.users.user_id IS 'The application''s own identifier for the user (text, unique per tenant).';
COMMENT ON COLUMN pgrecall.users.username IS 'Optional login name, unique per tenant.';
COMMENT ON COLUMN pgrecall.users.email IS 'Optional email, unique per tenant ignoring case (users_email_key).';
COMMENT ON COLUMN pgrecall.users.metadata IS 'Free-form JSON object owned by the application.';

CREATE UNIQUE INDEX users_email_key ON pgrecall.users (tenant_id, lower(email)) WHERE email IS NOT NULL;
COMMENT ON INDEX pgrecall.users_email_key IS 'Email unique per tenant, case-insensitive; serves get_user_by_email.';

CREATE TRIGGER users_touch BEFORE UPDATE ON pgrecall.users
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

CREATE TABLE pgrecall.conversations (
    tenant_id        text        NOT NULL CONSTRAINT conversations_tenant_id_check CHECK (tenant_id <> ''),
    id               uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    user_id          text        NOT NULL,
    title            text        NOT NULL DEFAULT '',
    status           text        NOT NULL DEFAULT 'active'
                                 CONSTRAINT conversations_status_check
                                 CHECK (status IN ('active', 'archived', 'closed', 'deleted')),
    persona_id       uuid,
    llm_config       jsonb       NOT NULL DEFAULT '{}'
                                 CONSTRAINT conversations_llm_config_check CHECK (jsonb_typeof(llm_config) = 'object'),
    metadata         jsonb       NOT NULL DEFAULT '{}'
                                 CONSTRAINT conversations_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    message_count    integer     NOT NULL DEFAULT 0,
    last_message_at  timestamptz,
    activity_at      timestamptz NOT NULL GENERATED ALWAYS AS (coalesce(last_message_at, created_at)) STORED,
    archived_at      timestamptz,
    closed_at        timestamptz,
    deleted_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversations_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT conversations_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES pgrecall.users (tenant_id, user_id) ON DELETE CASCADE
);

COMMENT ON TABLE pgrecall.conversations IS
    'A chat thread of one user. message_count and last_message_at are kept by the messages '
    'trigger; status moves active <-> archived, -> closed (no more messages), -> deleted (soft).';
COMMENT ON COLUMN pgrecall.conversations.status IS 'active | archived | closed | deleted (soft delete; restore sets active).';
COMMENT ON COLUMN pgrecall.conversations.persona_id IS 'Persona driving the assistant (nullable).';
COMMENT ON COLUMN pgrecall.conversations.llm_config IS 'Provider / model configuration for this thread (JSON object).';
COMMENT ON COLUMN pgrecall.conversations.message_count IS 'Number of messages; maintained by trigger messages_before_insert.';
COMMENT ON COLUMN pgrecall.conversations.last_message_at IS 'created_at of the newest message; maintained by trigger.';
COMMENT ON COLUMN pgrecall.conversations.activity_at IS 'Recency used for listing: last message, else creation.';

CREATE INDEX conversations_user_activity_idx
    ON pgrecall.conversations (tenant_id, user_id, activity_at DESC, id DESC);
COMMENT ON INDEX pgrecall.conversations_user_activity_idx IS
    'list_conversations: a user''s threads by recency, keyset-paged on (activity_at, id).';

CREATE INDEX conversations_deleted_idx
    ON pgrecall.conversations (tenant_id, deleted_at) WHERE status = 'deleted';
COMMENT ON INDEX pgrecall.conversations_deleted_idx IS
    'Retention: find soft-deleted conversations older than N days.';

CREATE TRIGGER conversations_touch BEFORE UPDATE ON pgrecall.conversations
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

CREATE TABLE pgrecall.messages (
    tenant_id        text        NOT NULL CONSTRAINT messages_tenant_id_check CHECK (tenant_id <> ''),
    id               uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    conversation_id  uuid        NOT NULL,
    seq              integer     NOT NULL DEFAULT 0,
    role             text        NOT NULL
                                 CONSTRAINT messages_role_check CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content          text        NOT NULL,
    thinking         text,
    metadata         jsonb       NOT NULL DEFAULT '{}'
                                 CONSTRAINT messages_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    token_count      integer     NOT NULL DEFAULT 0 CONSTRAINT messages_token_count_check CHECK (token_count >= 0),
    input_tokens     integer     CONSTRAINT messages_input_tokens_check CHECK (input_tokens >= 0),
    output_tokens    integer     CONSTRAINT messages_output_tokens_check CHECK (output_tokens >= 0),
    model            text,
    latency_ms       integer     CONSTRAINT messages_latency_ms_check CHECK (latency_ms >= 0),
    request_id       text        CONSTRAINT messages_request_id_check CHECK (request_id <> ''),
    source           text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT messages_seq_key UNIQUE (tenant_id, conversation_id, seq),
    CONSTRAINT messages_request_id_key UNIQUE (tenant_id, conversation_id, request_id),
    CONSTRAINT messages_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE CASCADE
);

COMMENT ON TABLE pgrecall.messages IS
    'Append-only messages of a conversation. seq is 1, 2, 3 ... per conversation, assigned by '
    'trigger under the conversation row lock; UPDATE is rejected; DELETE only by purging the conversation.';
COMMENT ON COLUMN pgrecall.messages.seq IS 'Position in the conversation, gap-free from 1 (assigned by trigger).';
COMMENT ON COLUMN pgrecall.messages.role IS 'system | user | assistant | tool.';
COMMENT ON COLUMN pgrecall.messages.thinking IS 'Reasoning text of the model, kept apart from content.';
COMMENT ON COLUMN pgrecall.messages.token_count IS
    'Tokens of content as the application counts them (estimated as ceil(chars/4) when not given); '
    'the context window budget sums this.';
COMMENT ON COLUMN pgrecall.messages.input_tokens IS 'Prompt tokens billed for the call that produced this message.';
COMMENT ON COLUMN pgrecall.messages.output_tokens IS 'Completion tokens billed for the call that produced this message.';
COMMENT ON COLUMN pgrecall.messages.request_id IS
    'Idempotency key, unique per conversation: appending again with the same key returns the first message.';
COMMENT ON COLUMN pgrecall.messages.source IS 'Where the message came from (e.g. web, api, slack, a tool name).';

COMMENT ON CONSTRAINT messages_seq_key ON pgrecall.messages IS
    'One message per position; serves last-n, paging and the context window (backward scan).';
COMMENT ON CONSTRAINT messages_request_id_key ON pgrecall.messages IS
    'Idempotent append: the backstop behind the trigger''s duplicate check.';

CREATE INDEX messages_source_idx
    ON pgrecall.messages (tenant_id, source, created_at DESC) WHERE source IS NOT NULL;
COMMENT ON INDEX pgrecall.messages_source_idx IS 'messages_by_source: a tenant''s messages from one source, newest first.';

CREATE FUNCTION pgrecall.messages_before_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    conv_status text;
BEGIN
    -- Lock the conversation row: appends to one conversation are serialized, which
    -- makes seq gap-free and the counters exact under concurrency.
    SELECT c.status INTO conv_status
      FROM pgrecall.conversations c
     WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % not found', NEW.conversation_id USING ERRCODE = 'PR404';
    END IF;
    IF conv_status IN ('closed', 'deleted') THEN
        RAISE EXCEPTION 'conversation % is %: no more messages', NEW.conversation_id, conv_status
            USING ERRCODE = 'PR409';
    END IF;
    -- Idempotency: a retried append (same request_id) inserts nothing; the caller
    -- reads the existing message. Checked after the lock, so concurrent retries see it.
    IF NEW.request_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM pgrecall.messages m
         WHERE m.tenant_id = NEW.tenant_id
           AND m.conversation_id = NEW.conversation_id
           AND m.request_id = NEW.request_id) THEN
        RETURN NULL;
    END IF;
    NEW.created_at := clock_timestamp();
    IF NEW.token_count = 0 AND NEW.content <> '' THEN
        NEW.token_count := ceil(char_length(NEW.content) / 4.0)::integer;
    END IF;
    UPDATE pgrecall.conversations c
       SET message_count = c.message_count + 1,
           last_message_at = NEW.created_at
     WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id
    RETURNING c.message_count INTO NEW.seq;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgrecall.messages_before_insert() IS
    'Assigns seq under the conversation row lock, keeps message_count / last_message_at, '
    'skips a duplicate request_id, refuses closed or deleted conversations (PR409).';

CREATE TRIGGER messages_before_insert BEFORE INSERT ON pgrecall.messages
    FOR EACH ROW EXECUTE FUNCTION pgrecall.messages_before_insert();

CREATE FUNCTION pgrecall.messages_immutable() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- A cascade from purging the conversation runs inside the RI trigger (depth > 1).
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'messages are immutable (% refused); purge the conversation instead', TG_OP
        USING ERRCODE = 'PR409';
END
$$;

COMMENT ON FUNCTION pgrecall.messages_immutable() IS
    'Rejects UPDATE and direct DELETE of messages; deletion happens only by conversation purge (cascade).';

CREATE TRIGGER messages_immutable BEFORE UPDATE OR DELETE ON pgrecall.messages
    FOR EACH ROW EXECUTE FUNCTION pgrecall.messages_immutable();

-- Row level security: every tenant table, enabled and forced (the owner obeys it too).
ALTER TABLE pgrecall.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.users
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.conversations
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.messages
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

-- The application role: NOLOGIN; grant it to the application's login role
-- (GRANT pgrecall_app TO my_app_login). Roles are cluster-wide, so create it once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgrecall_app') THEN
        CREATE ROLE pgrecall_app NOLOGIN;
    END IF;
END
$$;

COMMENT ON ROLE pgrecall_app IS
    'pgrecall application role (NOLOGIN): grant it to the application''s login. Subject to RLS.';

GRANT USAGE ON SCHEMA pgrecall TO pgrecall_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgrecall.users, pgrecall.conversations TO pgrecall_app;
GRANT SELECT, INSERT, DELETE ON pgrecall.messages TO pgrecall_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgrecall TO pgrecall_app;
