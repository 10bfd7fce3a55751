-- 0005 runs: the LLM jobs an application launches (research requests, data analyses,
-- tool generations, ...) as one queue table with an enforced status machine, domain
-- sets (named lists of domains that research runs are pointed at), and
-- pgrecall.tenant_row_counts(), the per-table row counts of a tenant (stats, purge).
--
-- Status machine (trigger runs_before_update, illegal moves raise PR409 -> ConflictError):
--   pending -> running | cancelled
--   running -> succeeded | failed | cancelled | pending (requeue: stale worker, retry)
--   failed  -> pending (retry)
--   succeeded, cancelled: final.
-- Workers claim with FOR UPDATE SKIP LOCKED (query claim_next_run) and heart-beat;
-- requeue_stale_runs moves runs whose worker went quiet back to pending (or to failed
-- once max_attempts is spent).

CREATE TABLE pgrecall.runs (
    tenant_id        text        NOT NULL CONSTRAINT runs_tenant_id_check CHECK (tenant_id <> ''),
    id               uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    kind             text        NOT NULL CONSTRAINT runs_kind_check CHECK (kind <> ''),
    status           text        NOT NULL DEFAULT 'pending'
                                 CONSTRAINT runs_status_check
                                 CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    priority         integer     NOT NULL DEFAULT 0,
    input            jsonb       NOT NULL DEFAULT '{}',
    output           jsonb,
    error            text,
    provider         text,
    model            text,
    input_tokens     integer     CONSTRAINT runs_input_tokens_check CHECK (input_tokens >= 0),
    output_tokens    integer     CONSTRAINT runs_output_tokens_check CHECK (output_tokens >= 0),
    cost             numeric(14, 6) CONSTRAINT runs_cost_check CHECK (cost >= 0),
    request_id       text        CONSTRAINT runs_request_id_check CHECK (request_id <> ''),
    trace_id         text,
    conversation_id  uuid,
    user_id          text,
    metadata         jsonb       NOT NULL DEFAULT '{}'
                                 CONSTRAINT runs_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    worker_id        text,
    attempts         integer     NOT NULL DEFAULT 0 CONSTRAINT runs_attempts_check CHECK (attempts >= 0),
    max_attempts     integer     NOT NULL DEFAULT 3 CONSTRAINT runs_max_attempts_check CHECK (max_attempts >= 1),
    available_at     timestamptz NOT NULL DEFAULT now(),
    heartbeat_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    duration_ms      bigint      GENERATED ALWAYS AS
                                 ((extract(epoch FROM finished_at - started_at) * 1000)::bigint) STORED,
    CONSTRAINT runs_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT runs_request_id_key UNIQUE (tenant_id, request_id),
    CONSTRAINT runs_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id),
    CONSTRAINT runs_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES pgrecall.users (tenant_id, user_id) ON DELETE SET NULL (user_id)
);

COMMENT ON TABLE pgrecall.runs IS
    'LLM jobs (research, analysis, tool generation, ...): a work queue with an enforced status '
    'machine pending -> running -> succeeded | failed | cancelled (trigger runs_before_update).';
COMMENT ON COLUMN pgrecall.runs.kind IS 'What the job is (e.g. research, analysis, tool); workers claim by kind.';
COMMENT ON COLUMN pgrecall.runs.status IS
    'pending | running | succeeded | failed | cancelled; moves checked by trigger (PR409 when illegal).';
COMMENT ON COLUMN pgrecall.runs.priority IS 'Higher is claimed first; ties by age (id is time-ordered).';
COMMENT ON COLUMN pgrecall.runs.input IS 'The job''s parameters (any JSON).';
COMMENT ON COLUMN pgrecall.runs.output IS 'The job''s result (any JSON), set on success.';
COMMENT ON COLUMN pgrecall.runs.error IS 'Why the last attempt failed.';
COMMENT ON COLUMN pgrecall.runs.cost IS 'Cost of the run in the application''s currency unit (e.g. USD).';
COMMENT ON COLUMN pgrecall.runs.request_id IS
    'Idempotency key, unique per tenant: creating again with the same key returns the first run.';
COMMENT ON COLUMN pgrecall.runs.trace_id IS 'Tracing id (OpenTelemetry, Langfuse, ...) of the job.';
COMMENT ON COLUMN pgrecall.runs.conversation_id IS 'Conversation that launched the run (nullable; cleared when it is purged).';
COMMENT ON COLUMN pgrecall.runs.user_id IS 'User who launched the run (nullable; cleared when the user is deleted).';
COMMENT ON COLUMN pgrecall.runs.worker_id IS 'Worker that holds (or last held) the run.';
COMMENT ON COLUMN pgrecall.runs.attempts IS 'How many times the run was claimed.';
COMMENT ON COLUMN pgrecall.runs.max_attempts IS 'A stale run is requeued while attempts < max_attempts, else failed.';
COMMENT ON COLUMN pgrecall.runs.available_at IS 'Not claimed before this time (retry back-off, scheduled runs).';
COMMENT ON COLUMN pgrecall.runs.heartbeat_at IS 'Last sign of life of the worker; stale running runs are requeued.';
COMMENT ON COLUMN pgrecall.runs.started_at IS 'When the current (last) attempt started running (set by trigger).';
COMMENT ON COLUMN pgrecall.runs.finished_at IS 'When the run reached succeeded / failed / cancelled (set by trigger).';
COMMENT ON COLUMN pgrecall.runs.duration_ms IS 'finished_at - started_at in milliseconds (generated).';

COMMENT ON CONSTRAINT runs_request_id_key ON pgrecall.runs IS 'Idempotent create: one run per request id and tenant.';
COMMENT ON CONSTRAINT runs_conversation_fkey ON pgrecall.runs IS
    'Run of a conversation; purging the conversation keeps the run and clears the link.';
COMMENT ON CONSTRAINT runs_user_fkey ON pgrecall.runs IS
    'Run of a user; deleting the user keeps the run and clears the link.';

CREATE INDEX runs_claim_idx
    ON pgrecall.runs (tenant_id, kind, priority DESC, id) WHERE status = 'pending';
COMMENT ON INDEX pgrecall.runs_claim_idx IS
    'claim_next_run: the oldest highest-priority pending run of a kind (small: pending runs only).';

CREATE INDEX runs_heartbeat_idx
    ON pgrecall.runs (tenant_id, heartbeat_at) WHERE status = 'running';
COMMENT ON INDEX pgrecall.runs_heartbeat_idx IS 'requeue_stale_runs: running runs by last heartbeat.';

CREATE INDEX runs_kind_created_idx ON pgrecall.runs (tenant_id, kind, created_at DESC);
COMMENT ON INDEX pgrecall.runs_kind_created_idx IS 'list_runs and run_outcomes: a kind''s runs, newest first / by time.';

CREATE INDEX runs_conversation_idx
    ON pgrecall.runs (tenant_id, conversation_id, created_at DESC) WHERE conversation_id IS NOT NULL;
COMMENT ON INDEX pgrecall.runs_conversation_idx IS
    'list_runs by conversation, and the ON DELETE SET NULL of runs_conversation_fkey.';

CREATE INDEX runs_user_idx ON pgrecall.runs (tenant_id, user_id) WHERE user_id IS NOT NULL;
COMMENT ON INDEX pgrecall.runs_user_idx IS 'The ON DELETE SET NULL of runs_user_fkey (user deletion).';

CREATE FUNCTION pgrecall.runs_before_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NOT (OLD.status, NEW.status) IN (
            ('pending', 'running'), ('pending', 'cancelled'),
            ('running', 'succeeded'), ('running', 'failed'), ('running', 'cancelled'),
            ('running', 'pending'), ('failed', 'pending')) THEN
        RAISE EXCEPTION 'run % is %: cannot become %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'PR409';
    END IF;
    IF NEW.status = 'running' THEN
        NEW.started_at := clock_timestamp();
        NEW.heartbeat_at := NEW.started_at;
        NEW.finished_at := NULL;
    ELSIF NEW.status = 'pending' THEN
        NEW.started_at := NULL;
        NEW.finished_at := NULL;
        NEW.heartbeat_at := NULL;
    ELSE
        NEW.finished_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgrecall.runs_before_update() IS
    'Enforces the run status machine (PR409 on an illegal move), stamps started_at / finished_at '
    'and updated_at.';

CREATE TRIGGER runs_before_update BEFORE UPDATE ON pgrecall.runs
    FOR EACH ROW EXECUTE FUNCTION pgrecall.runs_before_update();

CREATE FUNCTION pgrecall.runs_before_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status <> 'pending' THEN
        RAISE EXCEPTION 'a run starts pending, not %', NEW.status USING ERRCODE = 'PR409';
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgrecall.runs_before_insert() IS 'A run is created pending (PR409 otherwise).';

CREATE TRIGGER runs_before_insert BEFORE INSERT ON pgrecall.runs
    FOR EACH ROW EXECUTE FUNCTION pgrecall.runs_before_insert();

CREATE TABLE pgrecall.domain_sets (
    tenant_id    text        NOT NULL CONSTRAINT domain_sets_tenant_id_check CHECK (tenant_id <> ''),
    id           uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    name         text        NOT NULL CONSTRAINT domain_sets_name_check CHECK (name <> ''),
    description  text        NOT NULL DEFAULT '',
    domains      text[]      NOT NULL DEFAULT '{}'
                             CONSTRAINT domain_sets_domains_check CHECK (array_position(domains, NULL) IS NULL),
    metadata     jsonb       NOT NULL DEFAULT '{}'
                             CONSTRAINT domain_sets_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    active       boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT domain_sets_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT domain_sets_name_key UNIQUE (tenant_id, name)
);

COMMENT ON TABLE pgrecall.domain_sets IS
    'Named, configurable lists of web domains (e.g. the sources a research run may search).';
COMMENT ON COLUMN pgrecall.domain_sets.domains IS 'Lower-case host names, without duplicates (normalised by the library).';
COMMENT ON COLUMN pgrecall.domain_sets.active IS 'Inactive sets are kept but not offered.';
COMMENT ON CONSTRAINT domain_sets_name_key ON pgrecall.domain_sets IS 'One set per name and tenant; serves get_domain_set_by_name.';

CREATE INDEX domain_sets_domains_idx ON pgrecall.domain_sets USING gin (domains);
COMMENT ON INDEX pgrecall.domain_sets_domains_idx IS 'domain_sets_containing: the sets that list a domain (array containment).';

CREATE TRIGGER domain_sets_touch BEFORE UPDATE ON pgrecall.domain_sets
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

CREATE FUNCTION pgrecall.tenant_row_counts(tenant text)
RETURNS TABLE (table_name text, row_count bigint)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname
        FROM pg_class AS c
        WHERE c.relnamespace = 'pgrecall'::regnamespace
          AND c.relkind IN ('r', 'p')
          AND NOT c.relispartition
          AND EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY c.relname
    LOOP
        table_name := t.relname;
        EXECUTE format('SELECT count(*) FROM pgrecall.%I WHERE tenant_id = $1', t.relname)
            INTO row_count USING tenant;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgrecall.tenant_row_counts(text) IS
    'Rows of a tenant in every pgrecall table that has a tenant_id column (found in the catalog, '
    'so later tables count too). Runs as the caller: row level security applies.';

ALTER TABLE pgrecall.runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.runs
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.domain_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.domain_sets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.domain_sets
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON pgrecall.runs, pgrecall.domain_sets TO pgrecall_app;
GRANT EXECUTE ON FUNCTION pgrecall.runs_before_update(), pgrecall.runs_before_insert(),
    pgrecall.tenant_row_counts(text) TO pgrecall_app;
