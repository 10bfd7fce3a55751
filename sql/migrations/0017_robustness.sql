-- 0017 robustness: a finished run cannot be rewritten, and the application role can
-- create event partitions only near today.
--
-- runs_before_update (from 0005) let any UPDATE through that kept the status, so a
-- succeeded run could be "succeeded" again with another output. Now a run that is
-- succeeded or cancelled keeps its outcome (status, output, error, usage, worker, times):
-- changing any of them raises PR409 (ConflictError). Links cleared by deletes
-- (conversation_id, user_id ON DELETE SET NULL) and metadata may still change.
--
-- create_event_partitions (from 0006) is SECURITY DEFINER so the application role can
-- make today's partitions; it would make any number of partitions in any year. A caller
-- that is not a member of the table owner's role (the application) may now only create
-- partitions of days in [today - 2, today + 400] (UTC); the owner and superusers keep
-- the 0 .. 3660 day range anywhere (backfills, tests).
--
-- pgrecall.require_conversation(tenant, id) raises PR404 (NotFoundError) for a
-- conversation the tenant does not have: the message reads call it with parameters
-- only, so it runs once per statement (a one-time filter), not once per row, and an
-- unknown conversation is an error rather than an empty history, in the same round trip.
-- Only functions are created or replaced: no lock on any table.

CREATE OR REPLACE FUNCTION pgrecall.runs_before_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    IF OLD.status IN ('succeeded', 'cancelled') AND (
            NEW.status, NEW.output, NEW.error, NEW.provider, NEW.model, NEW.input_tokens,
            NEW.output_tokens, NEW.cost, NEW.worker_id, NEW.attempts, NEW.started_at,
            NEW.finished_at, NEW.heartbeat_at, NEW.available_at, NEW.input, NEW.kind)
        IS DISTINCT FROM (
            OLD.status, OLD.output, OLD.error, OLD.provider, OLD.model, OLD.input_tokens,
            OLD.output_tokens, OLD.cost, OLD.worker_id, OLD.attempts, OLD.started_at,
            OLD.finished_at, OLD.heartbeat_at, OLD.available_at, OLD.input, OLD.kind) THEN
        RAISE EXCEPTION 'run % is %: it is final and cannot change', OLD.id, OLD.status
            USING ERRCODE = 'PR409';
    END IF;
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
    'Enforces the run status machine (PR409 on an illegal move; a succeeded or cancelled run keeps '
    'its outcome), stamps started_at / finished_at and updated_at.';

CREATE OR REPLACE FUNCTION pgrecall.create_event_partitions(
    from_day date DEFAULT (now() AT TIME ZONE 'UTC')::date - 1,
    days integer DEFAULT 8
) RETURNS SETOF text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    day date;
    part text;
    lo timestamptz;
    hi timestamptz;
    today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    IF days < 0 OR days > 3660 THEN
        RAISE EXCEPTION 'days must be between 0 and 3660, not %', days USING ERRCODE = '22023';
    END IF;
    -- The application role (not a member of the owner's role) only near today.
    IF NOT pg_has_role(session_user,
                       (SELECT c.relowner FROM pg_class AS c WHERE c.oid = 'pgrecall.events'::regclass),
                       'MEMBER')
       AND days > 0 AND (from_day < today - 2 OR from_day + days - 1 > today + 400) THEN
        RAISE EXCEPTION 'event partitions may be created for days % .. % only, not % .. %',
            today - 2, today + 400, from_day, from_day + days - 1 USING ERRCODE = '22023';
    END IF;
    -- One maintenance run at a time (a concurrent one waits, then finds the tables made).
    PERFORM pg_advisory_xact_lock(hashtext('pgrecall.create_event_partitions'));
    FOR i IN 0 .. days - 1 LOOP
        day := from_day + i;
        part := 'events_p' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass('pgrecall.' || part) IS NOT NULL;
        lo := day::timestamp AT TIME ZONE 'UTC';
        hi := (day + 1)::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE pgrecall.%I (LIKE pgrecall.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        -- Rows of this day that went to the default partition move to the new one, or
        -- ATTACH would refuse (the default partition may not hold rows of a new range).
        -- FORCE is lifted meanwhile so the owner sees every tenant's rows.
        ALTER TABLE pgrecall.events_default NO FORCE ROW LEVEL SECURITY;
        EXECUTE format(
            'WITH moved AS (DELETE FROM pgrecall.events_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *) '
            'INSERT INTO pgrecall.%I SELECT * FROM moved', part) USING lo, hi;
        ALTER TABLE pgrecall.events_default FORCE ROW LEVEL SECURITY;
        EXECUTE format('ALTER TABLE pgrecall.events ATTACH PARTITION pgrecall.%I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
        EXECUTE format('ALTER TABLE pgrecall.%I ENABLE ROW LEVEL SECURITY', part);
        EXECUTE format('ALTER TABLE pgrecall.%I FORCE ROW LEVEL SECURITY', part);
        EXECUTE format('CREATE POLICY tenant_isolation ON pgrecall.%I '
                       'USING (tenant_id = pgrecall.current_tenant()) '
                       'WITH CHECK (tenant_id = pgrecall.current_tenant())', part);
        EXECUTE format('COMMENT ON TABLE pgrecall.%I IS %L', part,
                       format('Events of %s (UTC): a partition of pgrecall.events (query the parent).', day));
        RETURN NEXT part;
    END LOOP;
END
$$;

COMMENT ON FUNCTION pgrecall.create_event_partitions(date, integer) IS
    'Creates the daily partitions events_pYYYYMMDD for [from_day, from_day + days) that do not exist '
    '(default: yesterday and the next 7 days, UTC), moving matching rows out of events_default; '
    'returns the names created. SECURITY DEFINER, so the application role may call it, but only '
    'for days in [today - 2, today + 400] (the owner and superusers: any days).';

CREATE FUNCTION pgrecall.require_conversation(tenant text, conversation uuid) RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgrecall.conversations AS c
                   WHERE c.tenant_id = tenant AND c.id = conversation) THEN
        RAISE EXCEPTION 'conversation % not found', conversation USING ERRCODE = 'PR404';
    END IF;
    RETURN true;
END
$$;

COMMENT ON FUNCTION pgrecall.require_conversation(text, uuid) IS
    'true when the tenant has the conversation (any status), else PR404 (NotFoundError). '
    'Security invoker: row level security applies. Used by the message reads.';
