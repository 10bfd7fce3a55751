-- The role pgrecall_app is cluster-wide and may hold privileges in other databases,
-- so the rollback revokes what this migration granted and leaves the role in place.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgrecall FROM pgrecall_app;
REVOKE USAGE ON SCHEMA pgrecall FROM pgrecall_app;
DROP TABLE IF EXISTS pgrecall.messages;
DROP FUNCTION IF EXISTS pgrecall.messages_immutable();
DROP FUNCTION IF EXISTS pgrecall.messages_before_insert();
DROP TABLE IF EXISTS pgrecall.conversations;
DROP TABLE IF EXISTS pgrecall.users;
