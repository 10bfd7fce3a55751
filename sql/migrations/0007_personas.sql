-- 0007 personas, modules and conversation state (the assistant's configuration):
-- personas (system prompt template and behaviour), modules (prompt fragments and scripts
-- run at a stage of the response), the modules of a persona in execution order, and
-- per-conversation JSON state keyed by (conversation, persona, module, key).
-- Also the foreign key conversations.persona_id -> personas, added NOT VALID here (a
-- brief lock, no scan) and validated by 0009 (index by 0008) without blocking writes.

CREATE TABLE pgrecall.personas (
    tenant_id       text        NOT NULL CONSTRAINT personas_tenant_id_check CHECK (tenant_id <> ''),
    id              uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    name            text        NOT NULL CONSTRAINT personas_name_check CHECK (name <> ''),
    description     text        NOT NULL DEFAULT '',
    template        text        NOT NULL,
    mode            text,
    loop_frequency  text,
    first_message   text,
    image_path      text,
    active          boolean     NOT NULL DEFAULT true,
    metadata        jsonb       NOT NULL DEFAULT '{}'
                                CONSTRAINT personas_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT personas_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT personas_name_key UNIQUE (tenant_id, name)
);

COMMENT ON TABLE pgrecall.personas IS
    'Assistant personas: the system prompt template and behaviour a conversation runs with '
    '(conversations.persona_id).';
COMMENT ON COLUMN pgrecall.personas.template IS 'System prompt template of the persona.';
COMMENT ON COLUMN pgrecall.personas.mode IS 'Behaviour mode as the application defines it (e.g. reactive, autonomous).';
COMMENT ON COLUMN pgrecall.personas.loop_frequency IS 'How often an autonomous persona acts (application-defined, e.g. 5m).';
COMMENT ON COLUMN pgrecall.personas.first_message IS 'Greeting the persona opens a conversation with.';
COMMENT ON COLUMN pgrecall.personas.image_path IS 'Avatar image path or URL.';
COMMENT ON COLUMN pgrecall.personas.active IS 'Inactive personas are kept but not offered.';
COMMENT ON CONSTRAINT personas_name_key ON pgrecall.personas IS 'One persona per name and tenant; serves get_persona_by_name.';

CREATE TRIGGER personas_touch BEFORE UPDATE ON pgrecall.personas
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

CREATE TABLE pgrecall.modules (
    tenant_id              text        NOT NULL CONSTRAINT modules_tenant_id_check CHECK (tenant_id <> ''),
    id                     uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    name                   text        NOT NULL CONSTRAINT modules_name_check CHECK (name <> ''),
    description            text        NOT NULL DEFAULT '',
    content                text,
    type                   text        NOT NULL CONSTRAINT modules_type_check CHECK (type <> ''),
    trigger_pattern        text,
    script                 text,
    execution_context      text        NOT NULL DEFAULT 'immediate'
                                       CONSTRAINT modules_execution_context_check
                                       CHECK (execution_context IN ('immediate', 'post_response', 'on_demand')),
    requires_ai_inference  boolean     NOT NULL DEFAULT false,
    stage_priority         integer     NOT NULL DEFAULT 100,
    active                 boolean     NOT NULL DEFAULT true,
    metadata               jsonb       NOT NULL DEFAULT '{}'
                                       CONSTRAINT modules_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT modules_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT modules_name_key UNIQUE (tenant_id, name)
);

COMMENT ON TABLE pgrecall.modules IS
    'Prompt modules: text fragments and/or scripts a persona runs at a stage of its response.';
COMMENT ON COLUMN pgrecall.modules.content IS 'Prompt text (NULL for a script-only module).';
COMMENT ON COLUMN pgrecall.modules.type IS 'Module type as the application defines it (e.g. simple, advanced).';
COMMENT ON COLUMN pgrecall.modules.trigger_pattern IS 'Pattern (e.g. a regular expression) that activates the module.';
COMMENT ON COLUMN pgrecall.modules.script IS 'Script the application runs for the module.';
COMMENT ON COLUMN pgrecall.modules.execution_context IS
    'immediate (before the response) | post_response (after it) | on_demand (when called).';
COMMENT ON COLUMN pgrecall.modules.requires_ai_inference IS 'The module needs an LLM call of its own.';
COMMENT ON COLUMN pgrecall.modules.stage_priority IS 'Order within a stage: lower runs first.';
COMMENT ON CONSTRAINT modules_name_key ON pgrecall.modules IS 'One module per name and tenant; serves get_module_by_name.';

CREATE TRIGGER modules_touch BEFORE UPDATE ON pgrecall.modules
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

CREATE TABLE pgrecall.persona_modules (
    tenant_id   text        NOT NULL CONSTRAINT persona_modules_tenant_id_check CHECK (tenant_id <> ''),
    persona_id  uuid        NOT NULL,
    module_id   uuid        NOT NULL,
    position    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT persona_modules_pkey PRIMARY KEY (tenant_id, persona_id, module_id),
    CONSTRAINT persona_modules_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT persona_modules_module_fkey FOREIGN KEY (tenant_id, module_id)
        REFERENCES pgrecall.modules (tenant_id, id) ON DELETE CASCADE
);

COMMENT ON TABLE pgrecall.persona_modules IS
    'Which modules a persona uses. Execution order: stage (immediate, post_response, on_demand), '
    'then modules.stage_priority, then position.';
COMMENT ON COLUMN pgrecall.persona_modules.position IS 'Tie-break within equal stage_priority (lower first).';
COMMENT ON CONSTRAINT persona_modules_pkey ON pgrecall.persona_modules IS
    'A module at most once per persona; serves modules_of_persona.';

CREATE INDEX persona_modules_module_idx ON pgrecall.persona_modules (tenant_id, module_id);
COMMENT ON INDEX pgrecall.persona_modules_module_idx IS 'The cascade of persona_modules_module_fkey (module deletion).';

CREATE TABLE pgrecall.conversation_states (
    tenant_id        text        NOT NULL CONSTRAINT conversation_states_tenant_id_check CHECK (tenant_id <> ''),
    id               uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    conversation_id  uuid        NOT NULL,
    persona_id       uuid,
    module_id        uuid,
    key              text        NOT NULL CONSTRAINT conversation_states_key_check CHECK (key <> ''),
    value            jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversation_states_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT conversation_states_key UNIQUE NULLS NOT DISTINCT
        (tenant_id, conversation_id, persona_id, module_id, key),
    CONSTRAINT conversation_states_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT conversation_states_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT conversation_states_module_fkey FOREIGN KEY (tenant_id, module_id)
        REFERENCES pgrecall.modules (tenant_id, id) ON DELETE CASCADE
);

COMMENT ON TABLE pgrecall.conversation_states IS
    'Per-conversation JSON state of a persona''s modules: one value per (conversation, persona, '
    'module, key); persona and module may be NULL for conversation-wide state.';
COMMENT ON COLUMN pgrecall.conversation_states.value IS 'The state (any JSON).';
COMMENT ON CONSTRAINT conversation_states_key ON pgrecall.conversation_states IS
    'One value per (conversation, persona, module, key), NULLs equal: the target of the upsert; '
    'serves get and list by conversation.';

CREATE INDEX conversation_states_persona_idx
    ON pgrecall.conversation_states (tenant_id, persona_id) WHERE persona_id IS NOT NULL;
COMMENT ON INDEX pgrecall.conversation_states_persona_idx IS 'The cascade of conversation_states_persona_fkey.';

CREATE INDEX conversation_states_module_idx
    ON pgrecall.conversation_states (tenant_id, module_id) WHERE module_id IS NOT NULL;
COMMENT ON INDEX pgrecall.conversation_states_module_idx IS 'The cascade of conversation_states_module_fkey.';

CREATE TRIGGER conversation_states_touch BEFORE UPDATE ON pgrecall.conversation_states
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

-- conversations.persona_id (0002) becomes a foreign key. NOT VALID: existing rows are
-- checked by 0009 (VALIDATE takes a lock that lets writes through); new rows are
-- checked from now on. Deleting a persona keeps its conversations and clears the link.
ALTER TABLE pgrecall.conversations
    ADD CONSTRAINT conversations_persona_fkey FOREIGN KEY (tenant_id, persona_id)
        REFERENCES pgrecall.personas (tenant_id, id) ON DELETE SET NULL (persona_id)
        NOT VALID;
COMMENT ON CONSTRAINT conversations_persona_fkey ON pgrecall.conversations IS
    'The conversation''s persona; deleting the persona clears persona_id (index conversations_persona_idx).';

ALTER TABLE pgrecall.personas ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.personas FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.personas
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.modules ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.modules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.modules
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.persona_modules ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.persona_modules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.persona_modules
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.conversation_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.conversation_states FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.conversation_states
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE
    ON pgrecall.personas, pgrecall.modules, pgrecall.persona_modules, pgrecall.conversation_states
    TO pgrecall_app;
