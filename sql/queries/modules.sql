-- name: create_module :one
-- @returns pgrecall.models:Module
-- Create a module (name unique per tenant: modules_name_key).
INSERT INTO pgrecall.modules AS m
    (tenant_id, name, description, content, type, trigger_pattern, script, execution_context,
     requires_ai_inference, stage_priority, active, metadata)
VALUES
    (:tenant_id, :name, :description, :content, :type, :trigger_pattern, :script,
     :execution_context, :requires_ai_inference, :stage_priority, :active, :metadata)
RETURNING m.tenant_id, m.id, m.name, m.description, m.content, m.type, m.trigger_pattern,
          m.script, m.execution_context, m.requires_ai_inference, m.stage_priority, m.active,
          m.metadata, m.created_at, m.updated_at;

-- name: get_module :one
-- @returns pgrecall.models:Module
-- One module by id.
SELECT tenant_id, id, name, description, content, type, trigger_pattern, script,
       execution_context, requires_ai_inference, stage_priority, active, metadata,
       created_at, updated_at
FROM pgrecall.modules
WHERE tenant_id = :tenant_id AND id = :id;

-- name: get_module_by_name :one
-- @returns pgrecall.models:Module
-- One module by name (constraint modules_name_key).
SELECT tenant_id, id, name, description, content, type, trigger_pattern, script,
       execution_context, requires_ai_inference, stage_priority, active, metadata,
       created_at, updated_at
FROM pgrecall.modules
WHERE tenant_id = :tenant_id AND name = :name;

-- name: list_modules :many
-- @returns pgrecall.models:Module
-- The tenant's modules in execution order, optionally of one stage; active ones only
-- unless :include_inactive.
SELECT tenant_id, id, name, description, content, type, trigger_pattern, script,
       execution_context, requires_ai_inference, stage_priority, active, metadata,
       created_at, updated_at
FROM pgrecall.modules
WHERE tenant_id = :tenant_id
  AND (active OR :include_inactive)
  AND (:execution_context::text IS NULL OR execution_context = :execution_context::text)
ORDER BY array_position(ARRAY['immediate', 'post_response', 'on_demand'], execution_context),
         stage_priority, name
LIMIT :limit;

-- name: update_module :one
-- @returns pgrecall.models:Module
-- Change the given fields (NULL keeps the current value; metadata is merged;
-- :clear_content sets content to NULL for a script-only module).
UPDATE pgrecall.modules AS m
SET name = coalesce(:name, m.name),
    description = coalesce(:description, m.description),
    content = CASE WHEN :clear_content THEN NULL ELSE coalesce(:content, m.content) END,
    type = coalesce(:type, m.type),
    trigger_pattern = coalesce(:trigger_pattern, m.trigger_pattern),
    script = coalesce(:script, m.script),
    execution_context = coalesce(:execution_context, m.execution_context),
    requires_ai_inference = coalesce(:requires_ai_inference, m.requires_ai_inference),
    stage_priority = coalesce(:stage_priority, m.stage_priority),
    active = coalesce(:active, m.active),
    metadata = m.metadata || coalesce(:metadata::jsonb, '{}')
WHERE m.tenant_id = :tenant_id AND m.id = :id
RETURNING m.tenant_id, m.id, m.name, m.description, m.content, m.type, m.trigger_pattern,
          m.script, m.execution_context, m.requires_ai_inference, m.stage_priority, m.active,
          m.metadata, m.created_at, m.updated_at;

-- name: delete_module :exec
-- Delete a module (its persona links and states go with it).
DELETE FROM pgrecall.modules
WHERE tenant_id = :tenant_id AND id = :id;
