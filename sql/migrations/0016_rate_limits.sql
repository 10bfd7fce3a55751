-- 0016 rate_limits: token buckets of the HTTP service's rate limit, shared by every worker
-- and process that serves the API (a limit per key holds however many there are).
--
-- One row per (tenant, subject) -- the subject is an API key id, or whatever a custom
-- authenticator names. pgrecall.api_rate_take() refills the bucket for the time elapsed
-- and takes a token in one upsert; the row lock orders concurrent takes of one bucket.
--
-- UNLOGGED: taking a token writes no WAL; a crash empties the table, which only gives
-- every bucket a full burst again. Not copied to replicas (takes run on the primary).
--
-- Row level security: the tenant policy as on every table. The application role may read
-- and delete its own tenant's buckets (row counts, a tenant purge) and takes tokens only
-- through api_rate_take, SECURITY DEFINER, owned by the role that runs this migration
-- (policy rate_limit_owner).

CREATE UNLOGGED TABLE pgrecall.api_rate_limits (
    tenant_id   text             NOT NULL CONSTRAINT api_rate_limits_tenant_id_check CHECK (tenant_id <> ''),
    subject     text             NOT NULL CONSTRAINT api_rate_limits_subject_check CHECK (subject <> ''),
    tokens      double precision NOT NULL,
    granted     boolean          NOT NULL,
    updated_at  timestamptz      NOT NULL,
    CONSTRAINT api_rate_limits_pkey PRIMARY KEY (tenant_id, subject)
);

COMMENT ON TABLE pgrecall.api_rate_limits IS
    'Token buckets of the HTTP rate limit, one per (tenant, API key or subject). UNLOGGED: '
    'emptied by a crash (every bucket full again). Written only by pgrecall.api_rate_take.';
COMMENT ON COLUMN pgrecall.api_rate_limits.subject IS 'Whose bucket: an API key id, or a custom authenticator''s subject.';
COMMENT ON COLUMN pgrecall.api_rate_limits.tokens IS 'Tokens left at updated_at (refilled at the rate, up to the burst).';
COMMENT ON COLUMN pgrecall.api_rate_limits.granted IS 'Whether the last take got a token.';
COMMENT ON COLUMN pgrecall.api_rate_limits.updated_at IS 'Time of the last take (clock time, not transaction time).';

ALTER TABLE pgrecall.api_rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.api_rate_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.api_rate_limits
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());
CREATE POLICY rate_limit_owner ON pgrecall.api_rate_limits
    FOR ALL TO CURRENT_USER
    USING (true)
    WITH CHECK (true);
COMMENT ON POLICY rate_limit_owner ON pgrecall.api_rate_limits IS
    'The owner of api_rate_take (the role that ran migration 0016) updates every tenant''s buckets.';

CREATE FUNCTION pgrecall.api_rate_take(
    p_tenant text, p_subject text, p_rate double precision, p_burst double precision
) RETURNS double precision
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    at_ timestamptz := clock_timestamp();
    left_ double precision;
    ok boolean;
BEGIN
    IF NOT (p_rate > 0 AND p_burst >= 1) THEN
        RAISE EXCEPTION 'rate must be > 0 and burst >= 1 (not % and %)', p_rate, p_burst
            USING ERRCODE = '22023';
    END IF;
    -- The level is the bucket refilled for the time since its last take, capped at the burst.
    INSERT INTO pgrecall.api_rate_limits AS b (tenant_id, subject, tokens, granted, updated_at)
    VALUES (p_tenant, p_subject, p_burst - 1, true, at_)
    ON CONFLICT (tenant_id, subject) DO UPDATE
    SET tokens = least(p_burst, b.tokens + greatest(0, extract(epoch FROM at_ - b.updated_at)::float8) * p_rate)
               - CASE WHEN least(p_burst, b.tokens + greatest(0, extract(epoch FROM at_ - b.updated_at)::float8) * p_rate) >= 1
                      THEN 1 ELSE 0 END,
        granted = least(p_burst, b.tokens + greatest(0, extract(epoch FROM at_ - b.updated_at)::float8) * p_rate) >= 1,
        updated_at = greatest(b.updated_at, at_)
    RETURNING b.tokens, b.granted INTO left_, ok;
    IF ok THEN
        RETURN 0;
    END IF;
    RETURN (1 - left_) / p_rate;
END
$$;

COMMENT ON FUNCTION pgrecall.api_rate_take(text, text, double precision, double precision) IS
    'Token bucket: take one token from (tenant, subject), refilled at p_rate tokens a second up to '
    'p_burst. Returns 0 when a token was taken, else the seconds until one will be there '
    '(Retry-After). One upsert; concurrent takes of a bucket queue on its row.';

GRANT SELECT, DELETE ON pgrecall.api_rate_limits TO pgrecall_app;
REVOKE ALL ON FUNCTION pgrecall.api_rate_take(text, text, double precision, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgrecall.api_rate_take(text, text, double precision, double precision)
    TO pgrecall_app;
