-- name: cache_get :one
-- @returns pgrecall.models:CacheEntry
-- The live entry for :key, counting the hit. The counter row is locked with SKIP LOCKED:
-- a read never waits for another transaction (a hit during such a wait is not counted).
WITH entry AS (
    SELECT tenant_id, key, value, expires_at, hits, last_hit_at, created_at, updated_at
    FROM pgrecall.cache
    WHERE tenant_id = :tenant_id AND key = :key
      AND (expires_at IS NULL OR expires_at > now())
),
counted AS (
    UPDATE pgrecall.cache AS c
    SET hits = c.hits + 1, last_hit_at = now()
    WHERE c.tenant_id = :tenant_id
      AND c.key = (SELECT l.key FROM pgrecall.cache AS l
                   WHERE l.tenant_id = :tenant_id AND l.key = :key
                     AND (l.expires_at IS NULL OR l.expires_at > now())
                   FOR UPDATE SKIP LOCKED)
    RETURNING c.hits, c.last_hit_at
)
SELECT e.tenant_id, e.key, e.value, e.expires_at,
       coalesce((SELECT hits FROM counted), e.hits) AS hits,
       coalesce((SELECT last_hit_at FROM counted), e.last_hit_at) AS last_hit_at,
       e.created_at, e.updated_at
FROM entry AS e;

-- name: cache_peek :one
-- @returns pgrecall.models:CacheEntry
-- The entry for :key (live or expired) without counting a hit.
SELECT tenant_id, key, value, expires_at, hits, last_hit_at, created_at, updated_at
FROM pgrecall.cache
WHERE tenant_id = :tenant_id AND key = :key;

-- name: cache_set :one
-- @returns pgrecall.models:CacheEntry
-- Store :value under :key for :ttl_s seconds (NULL: no expiry), replacing any entry;
-- the hit counter starts again. excluded.created_at is the insert's now() (Citus
-- refuses now() itself in ON CONFLICT DO UPDATE of a distributed table).
INSERT INTO pgrecall.cache AS c (tenant_id, key, value, expires_at)
VALUES (:tenant_id, :key, :value, now() + make_interval(secs => :ttl_s))
ON CONFLICT (tenant_id, key) DO UPDATE
SET value = excluded.value,
    expires_at = excluded.expires_at,
    hits = 0,
    last_hit_at = NULL,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at
RETURNING c.tenant_id, c.key, c.value, c.expires_at, c.hits, c.last_hit_at, c.created_at,
          c.updated_at;

-- name: cache_add :one
-- @returns pgrecall.models:CacheEntry
-- Store :value under :key only if there is no live entry (an expired one is replaced).
-- No row back: a live entry exists (the caller reads it).
INSERT INTO pgrecall.cache AS c (tenant_id, key, value, expires_at)
VALUES (:tenant_id, :key, :value, now() + make_interval(secs => :ttl_s))
ON CONFLICT (tenant_id, key) DO UPDATE
SET value = excluded.value,
    expires_at = excluded.expires_at,
    hits = 0,
    last_hit_at = NULL,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at
WHERE c.expires_at IS NOT NULL AND c.expires_at <= excluded.created_at
RETURNING c.tenant_id, c.key, c.value, c.expires_at, c.hits, c.last_hit_at, c.created_at,
          c.updated_at;

-- name: cache_delete :exec
-- Delete one key.
DELETE FROM pgrecall.cache
WHERE tenant_id = :tenant_id AND key = :key;

-- name: cache_delete_prefix :exec
-- Delete every key matching the LIKE :pattern (an escaped prefix followed by %); the
-- "C" collation of key lets the primary key serve it as a range scan.
DELETE FROM pgrecall.cache
WHERE tenant_id = :tenant_id AND key LIKE :pattern;

-- name: cache_purge_expired :exec
-- Delete the tenant's expired entries (index cache_expires_idx).
DELETE FROM pgrecall.cache
WHERE tenant_id = :tenant_id AND expires_at <= now();

-- name: cache_stats :one
-- @returns pgrecall.models:CacheStats
-- Entries, expired entries, hits and stored bytes of the tenant's cache.
SELECT count(*)::bigint AS entries,
       count(*) FILTER (WHERE expires_at <= now())::bigint AS expired,
       coalesce(sum(hits), 0)::bigint AS hits,
       coalesce(sum(pg_column_size(value) + pg_column_size(key)), 0)::bigint AS bytes
FROM pgrecall.cache
WHERE tenant_id = :tenant_id;
