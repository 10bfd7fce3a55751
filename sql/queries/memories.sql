-- name: add_memory :one
-- @returns pgrecall.models:Memory
-- Store a memory; the user row is created on first use (when :user_id is given).
WITH new_user AS (
    INSERT INTO pgrecall.users (tenant_id, user_id)
    SELECT :tenant_id, :user_id::text
    WHERE :user_id::text IS NOT NULL
    ON CONFLICT (tenant_id, user_id) DO NOTHING
)
INSERT INTO pgrecall.memories AS m
    (tenant_id, user_id, conversation_id, persona_id, message_id, kind, content, importance,
     embedding, model, dimensions, metadata, expires_at)
VALUES
    (:tenant_id, :user_id::text, :conversation_id, :persona_id, :message_id, :kind, :content,
     :importance, :embedding, :model, :dimensions, :metadata, :expires_at)
RETURNING m.tenant_id, m.id, m.user_id, m.conversation_id, m.persona_id, m.message_id, m.kind,
          m.content, m.importance, m.model, m.dimensions, m.metadata, m.access_count,
          m.last_accessed_at, m.expires_at, m.created_at, m.updated_at;

-- name: get_memory :one
-- @returns pgrecall.models:Memory
-- One memory by id (its vector is not returned).
SELECT tenant_id, id, user_id, conversation_id, persona_id, message_id, kind, content, importance,
       model, dimensions, metadata, access_count, last_accessed_at, expires_at, created_at,
       updated_at
FROM pgrecall.memories
WHERE tenant_id = :tenant_id AND id = :id;

-- name: list_memories :many
-- @returns pgrecall.models:Memory
-- Memories newest first, filtered (NULL = any) and keyset-paged on (created_at, id).
-- Expired memories are included. Index: memories_user_idx for a user's memories.
SELECT tenant_id, id, user_id, conversation_id, persona_id, message_id, kind, content, importance,
       model, dimensions, metadata, access_count, last_accessed_at, expires_at, created_at,
       updated_at
FROM pgrecall.memories
WHERE tenant_id = :tenant_id
  AND (:user_id::text IS NULL OR user_id = :user_id::text)
  AND (:conversation_id::uuid IS NULL OR conversation_id = :conversation_id::uuid)
  AND (:kinds::text[] IS NULL OR kind = ANY(:kinds::text[]))
  AND (:before_created::timestamptz IS NULL
       OR (created_at, id) < (:before_created::timestamptz, :before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: update_memory :one
-- @returns pgrecall.models:Memory
-- Change a memory: NULL keeps a value; :metadata_patch is merged (jsonb ||). A new
-- vector comes with its model and dimension.
UPDATE pgrecall.memories AS m
SET content = coalesce(:content::text, m.content),
    kind = coalesce(:kind::text, m.kind),
    importance = coalesce(:importance::real, m.importance),
    expires_at = coalesce(:expires_at::timestamptz, m.expires_at),
    metadata = m.metadata || coalesce(:metadata_patch::jsonb, '{}'),
    embedding = coalesce(:embedding::vector, m.embedding),
    model = coalesce(:model::text, m.model),
    dimensions = coalesce(:dimensions::integer, m.dimensions)
WHERE m.tenant_id = :tenant_id AND m.id = :id
RETURNING m.tenant_id, m.id, m.user_id, m.conversation_id, m.persona_id, m.message_id, m.kind,
          m.content, m.importance, m.model, m.dimensions, m.metadata, m.access_count,
          m.last_accessed_at, m.expires_at, m.created_at, m.updated_at;

-- name: recall_memories :many
-- @notnull distance, relevance, recency, score
-- @returns pgrecall.models:RecalledMemory
-- @dims 384
-- (384 is replaced by the model's dimension, as in search_vector.) The k memories to
-- give the model: the :candidates nearest by cosine (HNSW memories_hnsw_<N>_idx,
-- iterative scan: run set_vector_search first) among the unexpired memories that
-- pass the filters (NULL = any; :user_of_conversation = the user who owns that
-- conversation), rescored as
--   :w_relevance * (1 - cosine distance) + :w_importance * importance
--   + :w_recency * 0.5 ^ (age / :half_life_seconds)   (0 once that would underflow)
-- where age counts from the last access (else creation). The returned memories get
-- access_count + 1 and last_accessed_at = now() in the same statement.
WITH candidates AS MATERIALIZED (
    SELECT m.id, m.embedding::vector(384) <=> :embedding::vector(384) AS distance
    FROM pgrecall.memories AS m
    WHERE m.tenant_id = :tenant_id
      AND m.dimensions = 384
      AND m.model = :model
      AND (:user_id::text IS NULL OR m.user_id = :user_id::text)
      AND (:user_of_conversation::uuid IS NULL OR m.user_id = (
               SELECT c.user_id
               FROM pgrecall.conversations AS c
               WHERE c.tenant_id = :tenant_id AND c.id = :user_of_conversation::uuid))
      AND (:conversation_id::uuid IS NULL OR m.conversation_id = :conversation_id::uuid)
      AND (:persona_id::uuid IS NULL OR m.persona_id = :persona_id::uuid)
      AND (:kinds::text[] IS NULL OR m.kind = ANY(:kinds::text[]))
      AND (m.expires_at IS NULL OR m.expires_at > now())
    ORDER BY distance
    LIMIT :candidates
),
scored AS (
    SELECT c.id, c.distance, 1 - c.distance AS relevance,
           -- 0.5 ^ 1000 is 1e-301: past that it is 0 (power() would underflow, 22003)
           CASE WHEN a.halvings < 1000 THEN power(0.5, a.halvings) ELSE 0 END AS recency,
           m.importance
    FROM candidates AS c
    JOIN pgrecall.memories AS m ON m.tenant_id = :tenant_id AND m.id = c.id
    CROSS JOIN LATERAL (
        SELECT greatest(extract(epoch FROM now() - coalesce(m.last_accessed_at, m.created_at))::float8, 0)
               / :half_life_seconds::float8 AS halvings
    ) AS a
),
top AS (
    SELECT id, distance, relevance, recency,
           :w_relevance::float8 * relevance + :w_importance::float8 * importance
           + :w_recency::float8 * recency AS score
    FROM scored
    ORDER BY score DESC, id
    LIMIT :k
),
touched AS (
    UPDATE pgrecall.memories AS m
    SET access_count = m.access_count + 1,
        last_accessed_at = now()
    FROM top
    WHERE m.tenant_id = :tenant_id AND m.id = top.id
    RETURNING m.tenant_id, m.id, m.user_id, m.conversation_id, m.persona_id, m.message_id,
              m.kind, m.content, m.importance, m.model, m.dimensions, m.metadata, m.access_count,
              m.last_accessed_at, m.expires_at, m.created_at, m.updated_at,
              top.score, top.relevance, top.recency, top.distance
)
SELECT tenant_id, id, user_id, conversation_id, persona_id, message_id, kind, content, importance,
       model, dimensions, metadata, access_count, last_accessed_at, expires_at, created_at,
       updated_at, score, relevance, recency, distance
FROM touched
ORDER BY score DESC, id;

-- name: forget_memory :exec
-- Delete a memory (and its chunks in embeddings).
DELETE FROM pgrecall.memories
WHERE tenant_id = :tenant_id AND id = :id;

-- name: forget_user_memories :exec
-- Delete every memory of a user.
DELETE FROM pgrecall.memories
WHERE tenant_id = :tenant_id AND user_id = :user_id;

-- name: decay_memories :exec
-- Decay sweep: multiply the importance of memories not accessed (else not created)
-- for :idle_seconds by :factor; :user_id NULL = every user. Run it periodically.
UPDATE pgrecall.memories AS m
SET importance = (m.importance * :factor::float8)::real
WHERE m.tenant_id = :tenant_id
  AND (:user_id::text IS NULL OR m.user_id = :user_id::text)
  AND coalesce(m.last_accessed_at, m.created_at) < now() - make_interval(secs => :idle_seconds::float8)
  AND m.importance > 0;

-- name: prune_memories :exec
-- Forget the memories whose importance fell below :below (after decay sweeps).
DELETE FROM pgrecall.memories
WHERE tenant_id = :tenant_id
  AND (:user_id::text IS NULL OR user_id = :user_id::text)
  AND importance < :below::real;

-- name: purge_expired_memories :exec
-- Delete the memories whose expires_at has passed (index memories_expires_idx).
DELETE FROM pgrecall.memories
WHERE tenant_id = :tenant_id AND expires_at IS NOT NULL AND expires_at <= now();
