-- 0013 kv_store: a tenant's byte values under (namespace, key), for the framework stores
-- that need one: LangChain's BaseStore (parent-document retrieval, cached embeddings)
-- and LlamaIndex's KV store (docstore, index store). Namespaces keep the users of one
-- tenant apart (e.g. 'docstore/data', 'parents').
--
-- Keys use collation "C" (byte order), so the primary key serves prefix scans
-- (yield_keys(prefix=...)) and keyset paging in key order. Values are opaque bytes:
-- the caller serializes (JSON, pickle-free formats recommended).

CREATE TABLE pgrecall.kv (
    tenant_id   text        NOT NULL CONSTRAINT kv_tenant_id_check CHECK (tenant_id <> ''),
    namespace   text        COLLATE "C" NOT NULL CONSTRAINT kv_namespace_check CHECK (namespace <> ''),
    key         text        COLLATE "C" NOT NULL,
    value       bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT kv_pkey PRIMARY KEY (tenant_id, namespace, key)
);

COMMENT ON TABLE pgrecall.kv IS
    'Key/value store of byte values per tenant and namespace (LangChain BaseStore, LlamaIndex '
    'KV store). Unlike pgrecall.cache it is logged and replicated, and nothing expires.';
COMMENT ON COLUMN pgrecall.kv.namespace IS
    'Who owns the key (an adapter, a collection): keys are unique per tenant and namespace.';
COMMENT ON COLUMN pgrecall.kv.key IS
    'The key (collation "C": byte order, so the primary key serves prefix scans like ''doc:%'').';
COMMENT ON COLUMN pgrecall.kv.value IS 'The value, opaque bytes (the caller serializes).';
COMMENT ON CONSTRAINT kv_pkey ON pgrecall.kv IS
    'mget / mset / mdelete by key; yield_keys by prefix, in key order (C collation).';

CREATE TRIGGER kv_touch BEFORE UPDATE ON pgrecall.kv
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

ALTER TABLE pgrecall.kv ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.kv FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.kv
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON pgrecall.kv TO pgrecall_app;
