-- Back to the definitions of 0005 (runs_before_update) and 0006 (create_event_partitions).

DROP FUNCTION IF EXISTS pgrecall.require_conversation(text, uuid);

CREATE OR REPLACE FUNCTION pgrecall.runs_before_update() RETURNS trigger
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
BEGIN
    IF days < 0 OR days > 3660 THEN
        RAISE EXCEPTION 'days must be between 0 and 3660, not %', days USING ERRCODE = '22023';
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
    'returns the names created. SECURITY DEFINER, so the application role may call it.';
