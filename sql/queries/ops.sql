-- name: health_info :one
-- @returns pgrecall.ops.health:_Info
-- What the health report says of the server (no tenant data: catalog and settings only).
SELECT current_setting('server_version') AS server_version,
       current_database() AS database,
       (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector_version,
       pg_is_in_recovery() AS in_recovery,
       to_regnamespace('pgrecall') IS NOT NULL AS schema_present;

-- name: role_bypasses_rls :scalar
-- @returns bool
-- Whether the current role sees every tenant's rows (superuser or BYPASSRLS): needed to
-- clean up all tenants at once.
SELECT rolsuper OR rolbypassrls
FROM pg_roles
WHERE rolname = current_user;

-- name: tenant_tables :many
-- @returns pgrecall.ops:TenantTable
-- Every pgrecall table with a tenant_id column (partitions excluded: their parent
-- stands for them), with its primary key and the columns an import writes (generated
-- columns and tenant_id excluded), found in the catalog.
SELECT c.relname::text AS name,
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.n)
                 FROM pg_index AS i
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, n)
                 JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
                 WHERE i.indrelid = c.oid AND i.indisprimary), '{}') AS primary_key,
       coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum)
                 FROM pg_attribute AS a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                   AND a.attgenerated = '' AND a.attname <> 'tenant_id'), '{}') AS columns
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'pgrecall'
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND EXISTS (SELECT 1 FROM pg_attribute AS a
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
ORDER BY c.relname;

-- name: tenant_table_links :many
-- @returns pgrecall.ops.catalog:_Link
-- The foreign keys between pgrecall tables: child, parent and the ON DELETE action
-- (a = no action, r = restrict, c = cascade, n = set null, d = set default).
SELECT ch.relname::text AS child, pa.relname::text AS parent, k.confdeltype::text AS on_delete
FROM pg_constraint AS k
JOIN pg_class AS ch ON ch.oid = k.conrelid
JOIN pg_class AS pa ON pa.oid = k.confrelid
WHERE k.contype = 'f'
  AND k.connamespace = 'pgrecall'::regnamespace
  AND k.conrelid <> k.confrelid
  AND k.conparentid = 0
  AND NOT ch.relispartition
ORDER BY 1, 2;

-- name: snapshot_transaction :exec
-- Export: one consistent, read-only snapshot for every table (first statement of the
-- transaction).
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;

-- name: set_tenant :exec
-- The transaction's tenant (row level security), as store.session does.
SELECT set_config('pgrecall.tenant_id', :tenant_id, true);

-- name: replica_mode :exec
-- Import: ordinary triggers and foreign-key checks off for this transaction, so rows come
-- back exactly as exported (sequence numbers, counters, timestamps). Needs a superuser or
-- GRANT SET ON PARAMETER session_replication_role.
SET LOCAL session_replication_role = replica;

-- name: cleanup_expired_cache :exec
-- Retention: delete expired cache entries of :tenant_id, or of every tenant when NULL.
DELETE FROM pgrecall.cache
WHERE (:tenant_id::text IS NULL OR tenant_id = :tenant_id::text)
  AND expires_at <= now();

-- name: cleanup_deleted_conversations :exec
-- Retention: purge conversations soft-deleted more than :days days ago (their messages
-- go with them), of :tenant_id or of every tenant when NULL (index conversations_deleted_idx).
DELETE FROM pgrecall.conversations
WHERE (:tenant_id::text IS NULL OR tenant_id = :tenant_id::text)
  AND status = 'deleted'
  AND deleted_at < now() - make_interval(days => :days);

-- name: cleanup_expired_memories :exec
-- Retention: delete memories whose expires_at has passed, of :tenant_id or of every
-- tenant when NULL.
DELETE FROM pgrecall.memories
WHERE (:tenant_id::text IS NULL OR tenant_id = :tenant_id::text)
  AND expires_at IS NOT NULL
  AND expires_at <= now();
