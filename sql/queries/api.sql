-- Queries of the HTTP service (pgrecall.api): API keys and rate limits (migrations 0015, 0016).

-- name: api_key_create :one
-- @returns pgrecall.api.keys:ApiKey
-- Store a new key of the tenant: its SHA-256 and its non-secret prefix (never the key).
INSERT INTO pgrecall.api_keys (tenant_id, key_hash, prefix, name, expires_at)
VALUES (:tenant_id, :key_hash, :prefix, :name, :expires_at)
RETURNING tenant_id, id, prefix, name, expires_at, revoked_at, last_used_at, created_at;

-- name: api_key_list :many
-- @returns pgrecall.api.keys:ApiKey
-- The tenant's keys, newest first; revoked ones only when :include_revoked.
SELECT tenant_id, id, prefix, name, expires_at, revoked_at, last_used_at, created_at
FROM pgrecall.api_keys
WHERE tenant_id = :tenant_id
  AND (revoked_at IS NULL OR :include_revoked::boolean)
ORDER BY created_at DESC, id DESC;

-- name: api_key_revoke :one
-- @returns pgrecall.api.keys:ApiKey
-- Revoke the key :id (by id, or by its prefix when :id is NULL); no row when there is none.
-- Revoking a revoked key keeps the first revocation time. (The time comes from a one-row
-- clock: Citus refuses now() inside COALESCE in an UPDATE of a distributed table.)
UPDATE pgrecall.api_keys
SET revoked_at = coalesce(revoked_at, clock.now)
FROM (SELECT now() AS now) AS clock
WHERE tenant_id = :tenant_id
  AND (id = :id OR (:id::uuid IS NULL AND prefix = :prefix))
RETURNING tenant_id, id, prefix, name, expires_at, revoked_at, last_used_at, created_at;

-- name: api_authenticate :many
-- @returns pgrecall.api.keys:KeyMatch
-- @notnull tenant_id, key_id, retry_after
-- The tenant of the live key with hash :key_hash (no row: unknown, revoked or expired), and
-- with :rate set, a token taken from the key's bucket: retry_after is 0 when one was taken,
-- else the seconds to wait. One statement: the lookup and the rate limit in one round trip.
SELECT k.tenant_id,
       k.key_id,
       CASE WHEN :rate::float8 IS NULL THEN 0::float8
            ELSE pgrecall.api_rate_take(k.tenant_id, k.key_id::text, :rate, :burst)
       END AS retry_after
FROM pgrecall.api_key_tenant(:key_hash) AS k;

-- name: api_rate_take :scalar
-- @returns float
-- @notnull api_rate_take
-- Take a token from the bucket of (:tenant_id, :subject): 0 when taken, else the seconds
-- until one is there (for authenticators other than API keys).
SELECT pgrecall.api_rate_take(:tenant_id, :subject, :rate, :burst);
