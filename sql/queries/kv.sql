-- name: kv_get_many :many
-- @returns pgrecall.models:KVEntry
-- The entries of :namespace among :keys (primary key kv_pkey); absent keys give no row.
SELECT namespace, key, value, created_at, updated_at
FROM pgrecall.kv
WHERE tenant_id = :tenant_id
  AND namespace = :namespace
  AND key = ANY(:keys::text[]);

-- name: kv_set_many :exec
-- Set :keys[i] to :values[i] (the arrays have the same length, keys are distinct),
-- replacing existing values; an unchanged value is not rewritten.
INSERT INTO pgrecall.kv AS kv (tenant_id, namespace, key, value)
SELECT :tenant_id, :namespace, t.key, t.value
FROM unnest(:keys::text[], :values::bytea[]) AS t (key, value)
ON CONFLICT (tenant_id, namespace, key) DO UPDATE
SET value = excluded.value
WHERE kv.value IS DISTINCT FROM excluded.value;

-- name: kv_delete_many :exec
-- Delete the entries of :namespace with these :keys (absent keys are ignored).
DELETE FROM pgrecall.kv
WHERE tenant_id = :tenant_id
  AND namespace = :namespace
  AND key = ANY(:keys::text[]);

-- name: kv_keys :many
-- @returns pgrecall.models:KVKey
-- A page of keys of :namespace in byte order: those in [:lo, :hi) (a prefix as a range,
-- NULL = unbounded) after :after (keyset paging; NULL = from the start). kv_pkey
-- (collation "C") serves the range and the order.
SELECT key
FROM pgrecall.kv
WHERE tenant_id = :tenant_id
  AND namespace = :namespace
  AND key >= coalesce(:lo::text, '')
  AND (:hi::text IS NULL OR key < :hi::text)
  AND (:after::text IS NULL OR key > :after::text)
ORDER BY key
LIMIT :limit;

-- name: kv_items :many
-- @returns pgrecall.models:KVEntry
-- A page of entries of :namespace in key order, as kv_keys.
SELECT namespace, key, value, created_at, updated_at
FROM pgrecall.kv
WHERE tenant_id = :tenant_id
  AND namespace = :namespace
  AND key >= coalesce(:lo::text, '')
  AND (:hi::text IS NULL OR key < :hi::text)
  AND (:after::text IS NULL OR key > :after::text)
ORDER BY key
LIMIT :limit;
