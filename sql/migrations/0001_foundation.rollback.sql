DROP FUNCTION IF EXISTS pgrecall.touch_updated_at();
DROP FUNCTION IF EXISTS pgrecall.uuid_v7();
DROP FUNCTION IF EXISTS pgrecall.uuid_v7_portable();
DROP FUNCTION IF EXISTS pgrecall.current_tenant();
DROP SCHEMA IF EXISTS pgrecall;
