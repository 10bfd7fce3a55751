-- name: upsert_state :one
-- @returns pgrecall.models:ConversationState
-- Set the value of (conversation, persona, module, key), creating or replacing it in one
-- statement (ON CONFLICT on conversation_states_key, NULLs equal): concurrent upserts
-- never fail, the last one wins.
INSERT INTO pgrecall.conversation_states AS s
    (tenant_id, conversation_id, persona_id, module_id, key, value)
VALUES (:tenant_id, :conversation_id, :persona_id, :module_id, :key, :value)
ON CONFLICT ON CONSTRAINT conversation_states_key DO UPDATE
SET value = excluded.value
RETURNING s.tenant_id, s.id, s.conversation_id, s.persona_id, s.module_id, s.key, s.value,
          s.created_at, s.updated_at;

-- name: merge_state :one
-- @returns pgrecall.models:ConversationState
-- Merge the JSON object :value into the stored one (top-level keys; created when absent).
-- Under the row lock of the upsert, so concurrent merges of different keys all survive.
INSERT INTO pgrecall.conversation_states AS s
    (tenant_id, conversation_id, persona_id, module_id, key, value)
VALUES (:tenant_id, :conversation_id, :persona_id, :module_id, :key, :value)
ON CONFLICT ON CONSTRAINT conversation_states_key DO UPDATE
SET value = CASE WHEN jsonb_typeof(s.value) = 'object' THEN s.value || excluded.value
                 ELSE excluded.value END
RETURNING s.tenant_id, s.id, s.conversation_id, s.persona_id, s.module_id, s.key, s.value,
          s.created_at, s.updated_at;

-- name: get_state :one
-- @returns pgrecall.models:ConversationState
-- The state of (conversation, persona, module, key); NULL persona / module match NULL.
SELECT tenant_id, id, conversation_id, persona_id, module_id, key, value, created_at, updated_at
FROM pgrecall.conversation_states
WHERE tenant_id = :tenant_id
  AND conversation_id = :conversation_id
  AND persona_id IS NOT DISTINCT FROM :persona_id::uuid
  AND module_id IS NOT DISTINCT FROM :module_id::uuid
  AND key = :key;

-- name: list_states :many
-- @returns pgrecall.models:ConversationState
-- A conversation's states, optionally of one persona and/or module, by key
-- (constraint conversation_states_key).
SELECT tenant_id, id, conversation_id, persona_id, module_id, key, value, created_at, updated_at
FROM pgrecall.conversation_states
WHERE tenant_id = :tenant_id
  AND conversation_id = :conversation_id
  AND (:persona_id::uuid IS NULL OR persona_id = :persona_id::uuid)
  AND (:module_id::uuid IS NULL OR module_id = :module_id::uuid)
ORDER BY persona_id NULLS FIRST, module_id NULLS FIRST, key
LIMIT :limit;

-- name: delete_state :exec
-- Delete the state of (conversation, persona, module, key).
DELETE FROM pgrecall.conversation_states
WHERE tenant_id = :tenant_id
  AND conversation_id = :conversation_id
  AND persona_id IS NOT DISTINCT FROM :persona_id::uuid
  AND module_id IS NOT DISTINCT FROM :module_id::uuid
  AND key = :key;

-- name: clear_states :exec
-- Delete all states of a conversation (optionally only one persona's / module's).
DELETE FROM pgrecall.conversation_states
WHERE tenant_id = :tenant_id
  AND conversation_id = :conversation_id
  AND (:persona_id::uuid IS NULL OR persona_id = :persona_id::uuid)
  AND (:module_id::uuid IS NULL OR module_id = :module_id::uuid);
