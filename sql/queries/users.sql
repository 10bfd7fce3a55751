-- name: upsert_user :one
-- @returns pgrecall.models:User
-- Create the user, or update the given profile fields of an existing one
-- (NULL arguments keep the stored value; metadata is merged).
INSERT INTO pgrecall.users AS u (tenant_id, user_id, username, email, display_name, metadata)
VALUES (:tenant_id, :user_id, :username, :email, :display_name, :metadata)
ON CONFLICT (tenant_id, user_id) DO UPDATE
SET username = coalesce(excluded.username, u.username),
    email = coalesce(excluded.email, u.email),
    display_name = coalesce(excluded.display_name, u.display_name),
    metadata = u.metadata || excluded.metadata
RETURNING u.tenant_id, u.user_id, u.username, u.email, u.display_name, u.metadata,
          u.created_at, u.updated_at;

-- name: get_user :one
-- @returns pgrecall.models:User
-- One user by the application's user id.
SELECT tenant_id, user_id, username, email, display_name, metadata, created_at, updated_at
FROM pgrecall.users
WHERE tenant_id = :tenant_id AND user_id = :user_id;

-- name: get_user_by_email :one
-- @returns pgrecall.models:User
-- One user by email, ignoring case (index users_email_key).
SELECT tenant_id, user_id, username, email, display_name, metadata, created_at, updated_at
FROM pgrecall.users
WHERE tenant_id = :tenant_id AND lower(email) = lower(:email) AND email IS NOT NULL;

-- name: list_users :many
-- @returns pgrecall.models:User
-- Users of the tenant in user id order, keyset-paged: pass the last user_id seen.
SELECT tenant_id, user_id, username, email, display_name, metadata, created_at, updated_at
FROM pgrecall.users
WHERE tenant_id = :tenant_id AND user_id > coalesce(:after, '')
ORDER BY user_id
LIMIT :limit;

-- name: delete_user :exec
-- Delete a user and, by cascade, their conversations and messages.
DELETE FROM pgrecall.users
WHERE tenant_id = :tenant_id AND user_id = :user_id;
