-- 0001 foundation: the pgrecall schema, the vector extension, and the helpers every
-- later table uses (tenant setting, UUID v7 ids, updated_at trigger).

CREATE EXTENSION IF NOT EXISTS vector;

CREATE SCHEMA IF NOT EXISTS pgrecall;

COMMENT ON SCHEMA pgrecall IS
    'pgrecall: the data layer of an LLM application (conversations, messages, documents, '
    'embeddings, memories, runs, events, cache). Every table is multi-tenant (tenant_id) '
    'with row level security on the transaction-local setting pgrecall.tenant_id.';

CREATE FUNCTION pgrecall.current_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('pgrecall.tenant_id', true), '') $$;

COMMENT ON FUNCTION pgrecall.current_tenant() IS
    'The tenant of the current transaction: set_config(''pgrecall.tenant_id'', t, true); '
    'NULL when unset, so RLS policies match no row instead of raising.';

-- A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids sort
-- by creation time. PostgreSQL 18's built-in uuidv7() is used when present (it is also
-- monotonic within a session); PostgreSQL 16 gets the portable SQL version.
CREATE FUNCTION pgrecall.uuid_v7_portable() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
AS $$
    SELECT encode(
        set_bit(
            set_bit(
                overlay(uuid_send(gen_random_uuid())
                        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                        FROM 1 FOR 6),
                52, 1),
            53, 1),
        'hex')::uuid
$$;

COMMENT ON FUNCTION pgrecall.uuid_v7_portable() IS
    'UUID v7 in plain SQL (ms timestamp + random) for servers without uuidv7() (PostgreSQL < 18).';

DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 180000 THEN
        EXECUTE 'CREATE FUNCTION pgrecall.uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE '
             || 'AS $f$ SELECT uuidv7() $f$';
    ELSE
        EXECUTE 'CREATE FUNCTION pgrecall.uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE '
             || 'AS $f$ SELECT pgrecall.uuid_v7_portable() $f$';
    END IF;
END
$$;

COMMENT ON FUNCTION pgrecall.uuid_v7() IS
    'Time-ordered UUID v7 for primary keys, so append-heavy b-tree indexes stay local: '
    'uuidv7() on PostgreSQL 18+, pgrecall.uuid_v7_portable() before.';

CREATE FUNCTION pgrecall.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgrecall.touch_updated_at() IS
    'BEFORE UPDATE trigger: sets updated_at to the transaction time.';
