-- 0015 api_keys: the bearer keys of the HTTP service (pgrecall.api, `pgrecall serve`).
-- A key belongs to one tenant and decides it: a request never names its tenant.
--
-- Keys are random tokens (32 bytes from the operating system's CSPRNG, base64url, with the
-- prefix pgr_) shown once when created; only their SHA-256 is stored. A fast hash is the
-- right one for such keys: with 256 bits of entropy there is no guessable input a slow
-- password hash (bcrypt, argon2) would protect, and the lookup runs on every request.
-- `prefix` (the first 12 characters of the key) is not secret: it names a key in listings.
--
-- Row level security: the tenant policy as on every table, so the application role sees and
-- manages only its own tenant's keys. Finding a key by its hash cannot be tenant-scoped (the
-- key is what decides the tenant): pgrecall.api_key_tenant(hash) does it, SECURITY DEFINER
-- and owned by the role that runs this migration, which the second policy (api_key_lookup,
-- for that role only) lets read and touch every tenant's keys. The application role gets
-- EXECUTE on the function: it can learn the tenant of a key it holds, nothing else.

CREATE TABLE pgrecall.api_keys (
    tenant_id     text        NOT NULL CONSTRAINT api_keys_tenant_id_check CHECK (tenant_id <> ''),
    id            uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    key_hash      bytea       NOT NULL CONSTRAINT api_keys_key_hash_check CHECK (octet_length(key_hash) = 32),
    prefix        text        NOT NULL CONSTRAINT api_keys_prefix_check CHECK (prefix <> ''),
    name          text        NOT NULL DEFAULT '',
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_keys_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (tenant_id, key_hash)
);

COMMENT ON TABLE pgrecall.api_keys IS
    'Bearer keys of the HTTP service, one tenant each, stored as SHA-256 only. '
    'Looked up across tenants only through pgrecall.api_key_tenant(hash).';
COMMENT ON COLUMN pgrecall.api_keys.key_hash IS
    'sha256 of the whole key (keys are 256-bit random tokens: a fast hash suffices). The key itself is never stored.';
COMMENT ON COLUMN pgrecall.api_keys.prefix IS 'First characters of the key (not secret): tells keys apart in listings.';
COMMENT ON COLUMN pgrecall.api_keys.name IS 'What the key is for (free text).';
COMMENT ON COLUMN pgrecall.api_keys.expires_at IS 'The key stops working at this time; NULL never expires.';
COMMENT ON COLUMN pgrecall.api_keys.revoked_at IS 'When the key was revoked; a revoked key never works again.';
COMMENT ON COLUMN pgrecall.api_keys.last_used_at IS 'Last successful authentication (updated at most once a minute).';
COMMENT ON CONSTRAINT api_keys_key_hash_key ON pgrecall.api_keys IS
    'A key is stored once per tenant (hashes of random keys do not collide across tenants either).';

CREATE INDEX api_keys_key_hash_idx ON pgrecall.api_keys (key_hash);
COMMENT ON INDEX pgrecall.api_keys_key_hash_idx IS
    'api_key_tenant: the key by its hash, before the tenant is known (not unique: unique keys '
    'include tenant_id; 256-bit random keys do not collide).';

ALTER TABLE pgrecall.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.api_keys
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());
-- CURRENT_USER is the migration's role, the owner of api_key_tenant below.
CREATE POLICY api_key_lookup ON pgrecall.api_keys
    FOR ALL TO CURRENT_USER
    USING (true)
    WITH CHECK (true);
COMMENT ON POLICY api_key_lookup ON pgrecall.api_keys IS
    'The owner of api_key_tenant (the role that ran migration 0015) reads keys of every tenant: '
    'what the SECURITY DEFINER lookup needs. The application role has only tenant_isolation.';

CREATE FUNCTION pgrecall.api_key_tenant(p_key_hash bytea)
RETURNS TABLE (tenant_id text, key_id uuid)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- last_used_at at most once a minute: a busy key does not write on every request.
    UPDATE pgrecall.api_keys AS k
    SET last_used_at = now()
    WHERE k.key_hash = p_key_hash
      AND k.revoked_at IS NULL
      AND (k.expires_at IS NULL OR k.expires_at > now())
      AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
    RETURN QUERY
        SELECT k.tenant_id, k.id
        FROM pgrecall.api_keys AS k
        WHERE k.key_hash = p_key_hash
          AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now());
END
$$;

COMMENT ON FUNCTION pgrecall.api_key_tenant(bytea) IS
    'The tenant and id of the live (not revoked, not expired) key with this SHA-256, or no row. '
    'SECURITY DEFINER: the one way the application role reads keys across tenants, by hash.';

REVOKE ALL ON FUNCTION pgrecall.api_key_tenant(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgrecall.api_key_tenant(bytea) TO pgrecall_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgrecall.api_keys TO pgrecall_app;
