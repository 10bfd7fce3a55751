-- 0006 events and cache: the operational tables. Analytics events and system logs in one
-- table, range-partitioned by day (UTC) on occurred_at; and the result cache, UNLOGGED.
--
-- Partitions are named events_pYYYYMMDD. pgrecall.create_event_partitions() creates them
-- ahead (run it daily: `pgrecall cleanup` does); anything without a partition lands in
-- events_default, so no event is ever refused; creating a partition later moves the
-- default partition's rows for that day into it. pgrecall.drop_event_partitions(keep_days)
-- implements retention by dropping whole partitions (no bulk DELETE).
--
-- Row level security: the policy on the parent applies to every query through
-- pgrecall.events (the way to query them). Each partition also has RLS enabled, forced
-- and the same policy, and no grants to pgrecall_app: naming a partition gains nothing.
-- The maintenance functions lift FORCE on a partition for the moment they move or count
-- its rows across tenants (same transaction, under an exclusive lock).

CREATE TABLE pgrecall.events (
    tenant_id        text        NOT NULL CONSTRAINT events_tenant_id_check CHECK (tenant_id <> ''),
    id               uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    type             text        NOT NULL CONSTRAINT events_type_check CHECK (type <> ''),
    service          text,
    level            text        NOT NULL DEFAULT 'info'
                                 CONSTRAINT events_level_check
                                 CHECK (level IN ('debug', 'info', 'warning', 'error', 'critical')),
    message          text,
    details          jsonb       NOT NULL DEFAULT '{}'
                                 CONSTRAINT events_details_check CHECK (jsonb_typeof(details) = 'object'),
    request_id       text,
    conversation_id  uuid,
    user_id          text,
    run_id           uuid,
    duration_ms      integer     CONSTRAINT events_duration_ms_check CHECK (duration_ms >= 0),
    CONSTRAINT events_pkey PRIMARY KEY (tenant_id, occurred_at, id)
) PARTITION BY RANGE (occurred_at);

COMMENT ON TABLE pgrecall.events IS
    'Analytics events and system logs, append-only, partitioned by day (UTC) on occurred_at: '
    'partitions events_pYYYYMMDD plus events_default. Query through this parent (RLS). '
    'No foreign keys: events outlive the conversations, users and runs they mention.';
COMMENT ON COLUMN pgrecall.events.occurred_at IS 'When it happened (the partition key; defaults to insert time).';
COMMENT ON COLUMN pgrecall.events.type IS 'Event type, e.g. message.sent, llm.call, research.finished, log.';
COMMENT ON COLUMN pgrecall.events.service IS 'Component that emitted it (api, worker, a tool name, ...).';
COMMENT ON COLUMN pgrecall.events.level IS 'debug | info | warning | error | critical.';
COMMENT ON COLUMN pgrecall.events.details IS 'Free-form JSON object (payload, properties, stack trace, ...).';
COMMENT ON COLUMN pgrecall.events.request_id IS 'Request / correlation id, to follow one request across services.';
COMMENT ON COLUMN pgrecall.events.conversation_id IS 'Conversation concerned (not a foreign key).';
COMMENT ON COLUMN pgrecall.events.user_id IS 'User concerned (not a foreign key).';
COMMENT ON COLUMN pgrecall.events.run_id IS 'Run concerned (not a foreign key).';
COMMENT ON COLUMN pgrecall.events.duration_ms IS 'How long the operation took, in milliseconds.';
COMMENT ON CONSTRAINT events_pkey ON pgrecall.events IS
    'Includes the partition key (required of a partitioned table); serves a tenant''s events by time.';

CREATE INDEX events_type_idx ON pgrecall.events (tenant_id, type, occurred_at DESC);
COMMENT ON INDEX pgrecall.events_type_idx IS 'list_events by type, and events_per_day.';

CREATE INDEX events_conversation_idx
    ON pgrecall.events (tenant_id, conversation_id, occurred_at) WHERE conversation_id IS NOT NULL;
COMMENT ON INDEX pgrecall.events_conversation_idx IS 'events_of_conversation: a conversation''s timeline.';

CREATE INDEX events_request_idx
    ON pgrecall.events (tenant_id, request_id) WHERE request_id IS NOT NULL;
COMMENT ON INDEX pgrecall.events_request_idx IS 'events_of_request: everything logged for one request id.';

CREATE TABLE pgrecall.events_default PARTITION OF pgrecall.events DEFAULT;
ALTER TABLE pgrecall.events_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.events_default FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.events_default
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());
COMMENT ON TABLE pgrecall.events_default IS
    'Events whose day has no partition yet (far past or future). create_event_partitions moves '
    'a day''s rows out of here when it creates that day''s partition.';

CREATE FUNCTION pgrecall.create_event_partitions(
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

CREATE FUNCTION pgrecall.drop_event_partitions(keep_days integer)
RETURNS TABLE (partition_name text, day date, row_count bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff date := (now() AT TIME ZONE 'UTC')::date - keep_days;
    part record;
BEGIN
    IF keep_days < 0 THEN
        RAISE EXCEPTION 'keep_days must be >= 0, not %', keep_days USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('pgrecall.create_event_partitions'));
    -- Dropping a partition locks the parent exclusively anyway: take that lock first, so
    -- the partition locks below come after it, in the order queries take them (no deadlock).
    IF EXISTS (SELECT 1 FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
               WHERE i.inhparent = 'pgrecall.events'::regclass
                 AND c.relname ~ '^events_p[0-9]{8}$'
                 AND to_date(substr(c.relname, 9), 'YYYYMMDD') < cutoff) THEN
        LOCK TABLE pgrecall.events IN ACCESS EXCLUSIVE MODE;
    END IF;
    FOR part IN
        SELECT c.relname, to_date(substr(c.relname, 9), 'YYYYMMDD') AS d
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'pgrecall.events'::regclass
          AND c.relname ~ '^events_p[0-9]{8}$'
          AND to_date(substr(c.relname, 9), 'YYYYMMDD') < cutoff
        ORDER BY 2
    LOOP
        partition_name := part.relname;
        day := part.d;
        EXECUTE format('ALTER TABLE pgrecall.%I NO FORCE ROW LEVEL SECURITY', part.relname);
        EXECUTE format('SELECT count(*) FROM pgrecall.%I', part.relname) INTO row_count;
        EXECUTE format('DROP TABLE pgrecall.%I', part.relname);
        RETURN NEXT;
    END LOOP;
    -- The default partition is kept; only its old rows go (it should be small).
    ALTER TABLE pgrecall.events_default NO FORCE ROW LEVEL SECURITY;
    DELETE FROM pgrecall.events_default WHERE occurred_at < cutoff::timestamp AT TIME ZONE 'UTC';
    GET DIAGNOSTICS row_count = ROW_COUNT;
    ALTER TABLE pgrecall.events_default FORCE ROW LEVEL SECURITY;
    partition_name := 'events_default';
    day := NULL;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION pgrecall.drop_event_partitions(integer) IS
    'Retention: drops the daily partitions of days before today - keep_days (UTC) and deletes the '
    'default partition''s rows older than that; returns what went, with row counts. Owner only; '
    'holds an exclusive lock on pgrecall.events while it counts and drops.';

-- The partitions of yesterday, today and the next 6 days exist from the start.
DO $$ BEGIN PERFORM pgrecall.create_event_partitions(); END $$;

ALTER TABLE pgrecall.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.events
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

-- Append-only for the application: no UPDATE. DELETE serves a tenant purge.
GRANT SELECT, INSERT, DELETE ON pgrecall.events TO pgrecall_app;
REVOKE ALL ON FUNCTION pgrecall.create_event_partitions(date, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgrecall.drop_event_partitions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgrecall.create_event_partitions(date, integer) TO pgrecall_app;

-- The result cache (LLM answers, API responses, computed analyses) that
-- applications otherwise keep in Redis, here in an UNLOGGED table.
--
-- UNLOGGED trade-off: writes skip the WAL (several times faster, no replication or
-- backup traffic), but the table is emptied after a crash or an immediate shutdown and
-- is not copied to streaming replicas. Right for a cache, wrong for anything else.

CREATE UNLOGGED TABLE pgrecall.cache (
    tenant_id    text        NOT NULL CONSTRAINT cache_tenant_id_check CHECK (tenant_id <> ''),
    key          text        COLLATE "C" NOT NULL CONSTRAINT cache_key_check CHECK (key <> ''),
    value        jsonb       NOT NULL,
    expires_at   timestamptz,
    hits         bigint      NOT NULL DEFAULT 0,
    last_hit_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cache_pkey PRIMARY KEY (tenant_id, key)
);

COMMENT ON TABLE pgrecall.cache IS
    'Key/value result cache with TTL. UNLOGGED: fast writes, no WAL, emptied after a crash and '
    'absent on replicas. Expired rows are invisible to reads and removed by purge_expired_cache.';
COMMENT ON COLUMN pgrecall.cache.key IS
    'Cache key (collation "C": byte order, so the primary key serves prefix scans like ''user:42:%'').';
COMMENT ON COLUMN pgrecall.cache.value IS 'The cached value (any JSON).';
COMMENT ON COLUMN pgrecall.cache.expires_at IS 'Invisible from this time on; NULL never expires.';
COMMENT ON COLUMN pgrecall.cache.hits IS 'Reads that found the entry since it was (re)set.';
COMMENT ON COLUMN pgrecall.cache.last_hit_at IS 'Time of the last read that found the entry.';
COMMENT ON CONSTRAINT cache_pkey ON pgrecall.cache IS 'get / set by key; prefix delete (C collation).';

CREATE INDEX cache_expires_idx ON pgrecall.cache (tenant_id, expires_at) WHERE expires_at IS NOT NULL;
COMMENT ON INDEX pgrecall.cache_expires_idx IS
    'purge_expired_cache: a tenant''s expired entries (across tenants, PostgreSQL 18 skip-scans it).';

ALTER TABLE pgrecall.cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.cache FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.cache
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON pgrecall.cache TO pgrecall_app;
