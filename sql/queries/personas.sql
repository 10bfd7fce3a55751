-- name: create_persona :one
-- @returns pgrecall.models:Persona
-- Create a persona (name unique per tenant: persona_name_key).
INSERT INTO pgrecall.personas AS p
    (tenant_id, name, description, template, mode, loop_frequency, first_message, image_path,
     active, metadata)
VALUES
    (:tenant_id, :name, :description, :template, :mode, :loop_frequency, :first_message,
     :image_path, :active, :metadata)
RETURNING p.tenant_id, p.id, p.name, p.description, p.template, p.mode, p.loop_frequency,
          p.first_message, p.image_path, p.active, p.metadata, p.created_at, p.updated_at;

-- name: get_persona :one
-- @returns pgrecall.models:Persona
-- One persona by id.
SELECT tenant_id, id, name, description, template, mode, loop_frequency, first_message,
       image_path, active, metadata, created_at, updated_at
FROM pgrecall.personas
WHERE tenant_id = :tenant_id AND id = :id;

-- name: get_persona_by_name :one
-- @returns pgrecall.models:Persona
-- One persona by name (constraint personas_name_key).
SELECT tenant_id, id, name, description, template, mode, loop_frequency, first_message,
       image_path, active, metadata, created_at, updated_at
FROM pgrecall.personas
WHERE tenant_id = :tenant_id AND name = :name;

-- name: list_personas :many
-- @returns pgrecall.models:Persona
-- The tenant's personas by name, active ones only unless :include_inactive.
SELECT tenant_id, id, name, description, template, mode, loop_frequency, first_message,
       image_path, active, metadata, created_at, updated_at
FROM pgrecall.personas
WHERE tenant_id = :tenant_id AND (active OR :include_inactive)
ORDER BY name
LIMIT :limit;

-- name: update_persona :one
-- @returns pgrecall.models:Persona
-- Change the given fields (NULL keeps the current value; metadata is merged).
UPDATE pgrecall.personas AS p
SET name = coalesce(:name, p.name),
    description = coalesce(:description, p.description),
    template = coalesce(:template, p.template),
    mode = coalesce(:mode, p.mode),
    loop_frequency = coalesce(:loop_frequency, p.loop_frequency),
    first_message = coalesce(:first_message, p.first_message),
    image_path = coalesce(:image_path, p.image_path),
    active = coalesce(:active, p.active),
    metadata = p.metadata || coalesce(:metadata::jsonb, '{}')
WHERE p.tenant_id = :tenant_id AND p.id = :id
RETURNING p.tenant_id, p.id, p.name, p.description, p.template, p.mode, p.loop_frequency,
          p.first_message, p.image_path, p.active, p.metadata, p.created_at, p.updated_at;

-- name: delete_persona :exec
-- Delete a persona: its module links and states go with it (cascade); its conversations
-- stay, with persona_id cleared.
DELETE FROM pgrecall.personas
WHERE tenant_id = :tenant_id AND id = :id;

-- name: attach_module :exec
-- Give a persona a module at :position (moves it when already attached).
INSERT INTO pgrecall.persona_modules (tenant_id, persona_id, module_id, position)
VALUES (:tenant_id, :persona_id, :module_id, :position)
ON CONFLICT (tenant_id, persona_id, module_id) DO UPDATE
SET position = excluded.position;

-- name: detach_module :exec
-- Take a module away from a persona.
DELETE FROM pgrecall.persona_modules
WHERE tenant_id = :tenant_id AND persona_id = :persona_id AND module_id = :module_id;

-- name: modules_of_persona :many
-- @returns pgrecall.models:PersonaModule
-- A persona's modules in execution order: stage (immediate, post_response, on_demand),
-- then stage_priority, then position. Only active modules unless :include_inactive;
-- one stage only with :execution_context.
SELECT m.tenant_id, m.id, m.name, m.description, m.content, m.type, m.trigger_pattern,
       m.script, m.execution_context, m.requires_ai_inference, m.stage_priority, m.active,
       m.metadata, m.created_at, m.updated_at, pm.position
FROM pgrecall.persona_modules AS pm
JOIN pgrecall.modules AS m ON m.tenant_id = pm.tenant_id AND m.id = pm.module_id
WHERE pm.tenant_id = :tenant_id
  AND pm.persona_id = :persona_id
  AND (m.active OR :include_inactive)
  AND (:execution_context::text IS NULL OR m.execution_context = :execution_context::text)
ORDER BY array_position(ARRAY['immediate', 'post_response', 'on_demand'], m.execution_context),
         m.stage_priority, pm.position, m.name;
