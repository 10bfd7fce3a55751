DROP TABLE IF EXISTS pgrecall.cache;
DROP TABLE IF EXISTS pgrecall.events;
DROP FUNCTION IF EXISTS pgrecall.drop_event_partitions(integer);
DROP FUNCTION IF EXISTS pgrecall.create_event_partitions(date, integer);
