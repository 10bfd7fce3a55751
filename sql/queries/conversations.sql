-- name: create_conversation :one
-- @returns pgrecall.models:Conversation
-- Create a conversation; the user row is created on first use.
WITH new_user AS (
    INSERT INTO pgrecall.users (tenant_id, user_id)
    VALUES (:tenant_id, :user_id)
    ON CONFLICT (tenant_id, user_id) DO NOTHING
)
INSERT INTO pgrecall.conversations AS c (tenant_id, user_id, title, persona_id, llm_config, metadata)
VALUES (:tenant_id, :user_id, :title, :persona_id, :llm_config, :metadata)
RETURNING c.tenant_id, c.id, c.user_id, c.title, c.status, c.persona_id, c.llm_config, c.metadata,
          c.message_count, c.last_message_at, c.activity_at, c.archived_at, c.closed_at,
          c.deleted_at, c.created_at, c.updated_at;

-- name: get_conversation :one
-- @returns pgrecall.models:Conversation
-- One conversation by id (any status).
SELECT tenant_id, id, user_id, title, status, persona_id, llm_config, metadata,
       message_count, last_message_at, activity_at, archived_at, closed_at,
       deleted_at, created_at, updated_at
FROM pgrecall.conversations
WHERE tenant_id = :tenant_id AND id = :id;

-- name: list_conversations :many
-- @returns pgrecall.models:Conversation
-- A user's conversations, most recent activity first, filtered by status and
-- keyset-paged on (activity_at, id): pass the last row's values to get the next page.
-- Index: conversations_user_activity_idx.
SELECT tenant_id, id, user_id, title, status, persona_id, llm_config, metadata,
       message_count, last_message_at, activity_at, archived_at, closed_at,
       deleted_at, created_at, updated_at
FROM pgrecall.conversations
WHERE tenant_id = :tenant_id
  AND user_id = :user_id
  AND status = ANY(:statuses)
  AND (:before_activity::timestamptz IS NULL
       OR (activity_at, id) < (:before_activity::timestamptz, :before_id::uuid))
ORDER BY activity_at DESC, id DESC
LIMIT :limit;

-- name: rename_conversation :one
-- @returns pgrecall.models:Conversation
-- Change the title.
UPDATE pgrecall.conversations AS c
SET title = :title
WHERE c.tenant_id = :tenant_id AND c.id = :id
RETURNING c.tenant_id, c.id, c.user_id, c.title, c.status, c.persona_id, c.llm_config, c.metadata,
          c.message_count, c.last_message_at, c.activity_at, c.archived_at, c.closed_at,
          c.deleted_at, c.created_at, c.updated_at;

-- name: set_conversation_status :one
-- @returns pgrecall.models:Conversation
-- Move a conversation to :status when its current status is one of :from_statuses;
-- stamps archived_at / closed_at / deleted_at (cleared when leaving that status).
-- No row back means: not found, or not in an allowed status (the caller tells which).
-- (SELECT now()), not now(): Citus refuses non-IMMUTABLE functions inside CASE in an
-- UPDATE of a distributed table; the sub-select is evaluated once, the same value.
UPDATE pgrecall.conversations AS c
SET status = :status,
    archived_at = CASE WHEN :status = 'archived' THEN (SELECT now()) ELSE NULL END,
    closed_at = CASE WHEN :status = 'closed' THEN (SELECT now()) ELSE c.closed_at END,
    deleted_at = CASE WHEN :status = 'deleted' THEN (SELECT now()) ELSE NULL END
WHERE c.tenant_id = :tenant_id AND c.id = :id AND c.status = ANY(:from_statuses)
RETURNING c.tenant_id, c.id, c.user_id, c.title, c.status, c.persona_id, c.llm_config, c.metadata,
          c.message_count, c.last_message_at, c.activity_at, c.archived_at, c.closed_at,
          c.deleted_at, c.created_at, c.updated_at;

-- name: purge_conversation :exec
-- Delete a conversation and (cascade) its messages for good.
DELETE FROM pgrecall.conversations
WHERE tenant_id = :tenant_id AND id = :id;
