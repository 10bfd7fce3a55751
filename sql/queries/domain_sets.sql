-- name: create_domain_set :one
-- @returns pgrecall.models:DomainSet
-- Create a domain set (name unique per tenant: domain_sets_name_key).
INSERT INTO pgrecall.domain_sets AS d (tenant_id, name, description, domains, metadata, active)
VALUES (:tenant_id, :name, :description, :domains, :metadata, :active)
RETURNING d.tenant_id, d.id, d.name, d.description, d.domains, d.metadata, d.active,
          d.created_at, d.updated_at;

-- name: get_domain_set :one
-- @returns pgrecall.models:DomainSet
-- One domain set by id.
SELECT tenant_id, id, name, description, domains, metadata, active, created_at, updated_at
FROM pgrecall.domain_sets
WHERE tenant_id = :tenant_id AND id = :id;

-- name: get_domain_set_by_name :one
-- @returns pgrecall.models:DomainSet
-- One domain set by name (constraint domain_sets_name_key).
SELECT tenant_id, id, name, description, domains, metadata, active, created_at, updated_at
FROM pgrecall.domain_sets
WHERE tenant_id = :tenant_id AND name = :name;

-- name: list_domain_sets :many
-- @returns pgrecall.models:DomainSet
-- The tenant's domain sets by name, active ones only unless :include_inactive.
SELECT tenant_id, id, name, description, domains, metadata, active, created_at, updated_at
FROM pgrecall.domain_sets
WHERE tenant_id = :tenant_id AND (active OR :include_inactive)
ORDER BY name
LIMIT :limit;

-- name: domain_sets_containing :many
-- @returns pgrecall.models:DomainSet
-- The domain sets that list :domain (index domain_sets_domains_idx).
SELECT tenant_id, id, name, description, domains, metadata, active, created_at, updated_at
FROM pgrecall.domain_sets
WHERE tenant_id = :tenant_id AND domains @> ARRAY[:domain::text]
ORDER BY name;

-- name: update_domain_set :one
-- @returns pgrecall.models:DomainSet
-- Change the given fields (NULL keeps; metadata is merged). :add and :remove edit the
-- list in place (duplicates dropped, order kept); :domains replaces it.
UPDATE pgrecall.domain_sets AS d
SET name = coalesce(:name, d.name),
    description = coalesce(:description, d.description),
    domains = ARRAY(
        SELECT x.domain
        FROM unnest(coalesce(:domains::text[], d.domains) || coalesce(:add::text[], '{}'))
             WITH ORDINALITY AS x (domain, n)
        WHERE x.domain <> ALL(coalesce(:remove::text[], '{}'))
        GROUP BY x.domain
        ORDER BY min(x.n)),
    metadata = d.metadata || coalesce(:metadata::jsonb, '{}'),
    active = coalesce(:active, d.active)
WHERE d.tenant_id = :tenant_id AND d.id = :id
RETURNING d.tenant_id, d.id, d.name, d.description, d.domains, d.metadata, d.active,
          d.created_at, d.updated_at;

-- name: delete_domain_set :exec
-- Delete a domain set.
DELETE FROM pgrecall.domain_sets
WHERE tenant_id = :tenant_id AND id = :id;
