DROP FUNCTION IF EXISTS pgrecall.api_key_tenant(bytea);
DROP TABLE IF EXISTS pgrecall.api_keys;
