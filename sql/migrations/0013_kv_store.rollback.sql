DROP TABLE IF EXISTS pgrecall.kv;
