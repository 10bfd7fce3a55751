-- name: log_event :one
-- @returns pgrecall.models:Event
-- Log one event (routed to its day's partition, else to events_default).
INSERT INTO pgrecall.events AS e
    (tenant_id, occurred_at, type, service, level, message, details, request_id,
     conversation_id, user_id, run_id, duration_ms)
VALUES
    (:tenant_id, coalesce(:occurred_at::timestamptz, now()), :type, :service, :level, :message,
     :details, :request_id, :conversation_id, :user_id, :run_id, :duration_ms)
RETURNING e.tenant_id, e.id, e.occurred_at, e.type, e.service, e.level, e.message, e.details,
          e.request_id, e.conversation_id, e.user_id, e.run_id, e.duration_ms;

-- name: create_event_stage :exec
-- Batch logging, step 1: a transaction-local staging table. COPY FROM is refused on a
-- table with row level security, so the batch is copied here and moved by
-- flush_event_stage, whose INSERT the policy checks.
CREATE TEMP TABLE IF NOT EXISTS pgrecall_event_stage (
    occurred_at      timestamptz,
    type             text,
    service          text,
    level            text,
    message          text,
    details          jsonb,
    request_id       text,
    conversation_id  uuid,
    user_id          text,
    run_id           uuid,
    duration_ms      integer
) ON COMMIT DROP;

-- name: copy_event_stage :copy
-- Batch logging, step 2: binary COPY of the batch into the staging table.
COPY pg_temp.pgrecall_event_stage
    (occurred_at, type, service, level, message, details, request_id, conversation_id,
     user_id, run_id, duration_ms)
FROM STDIN (FORMAT BINARY);

-- name: flush_event_stage :exec
-- Batch logging, step 3: move the staged batch into pgrecall.events for :tenant_id
-- (emptying the stage); returns the number of events logged.
WITH staged AS (
    DELETE FROM pg_temp.pgrecall_event_stage
    RETURNING occurred_at, type, service, level, message, details, request_id,
              conversation_id, user_id, run_id, duration_ms
)
INSERT INTO pgrecall.events
    (tenant_id, occurred_at, type, service, level, message, details, request_id,
     conversation_id, user_id, run_id, duration_ms)
SELECT :tenant_id, coalesce(occurred_at, now()), type, service, coalesce(level, 'info'), message,
       coalesce(details, '{}'), request_id, conversation_id, user_id, run_id, duration_ms
FROM staged;

-- name: list_events :many
-- @returns pgrecall.models:Event
-- A tenant's events in [:since, :until), newest first, optionally of one type / service /
-- minimum level set, keyset-paged on (occurred_at, id). Partition pruning on occurred_at;
-- index events_pkey, or events_type_idx with a type.
SELECT tenant_id, id, occurred_at, type, service, level, message, details, request_id,
       conversation_id, user_id, run_id, duration_ms
FROM pgrecall.events
WHERE tenant_id = :tenant_id
  AND occurred_at >= :since
  AND occurred_at < :until
  AND (:type::text IS NULL OR type = :type::text)
  AND (:service::text IS NULL OR service = :service::text)
  AND (:levels::text[] IS NULL OR level = ANY(:levels::text[]))
  AND (:before_at::timestamptz IS NULL
       OR (occurred_at, id) < (:before_at::timestamptz, :before_id::uuid))
ORDER BY occurred_at DESC, id DESC
LIMIT :limit;

-- name: events_of_conversation :many
-- @returns pgrecall.models:Event
-- A conversation's events in time order (index events_conversation_idx).
SELECT tenant_id, id, occurred_at, type, service, level, message, details, request_id,
       conversation_id, user_id, run_id, duration_ms
FROM pgrecall.events
WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id
ORDER BY occurred_at, id
LIMIT :limit;

-- name: events_of_request :many
-- @returns pgrecall.models:Event
-- Everything logged under one request id, in time order (index events_request_idx).
SELECT tenant_id, id, occurred_at, type, service, level, message, details, request_id,
       conversation_id, user_id, run_id, duration_ms
FROM pgrecall.events
WHERE tenant_id = :tenant_id AND request_id = :request_id
ORDER BY occurred_at, id
LIMIT :limit;

-- name: create_event_partitions :many
-- @returns pgrecall.models:PartitionName
-- Create the daily partitions of [:from_day, :from_day + :days) that are missing.
-- @notnull name
SELECT p AS name
FROM pgrecall.create_event_partitions(:from_day, :days) AS p;

-- name: drop_event_partitions :many
-- @returns pgrecall.models:EventPartition
-- Retention: drop the partitions of days before today - :keep_days (UTC), and delete
-- the default partition's rows older than that. Owner only.
-- @notnull name, row_count
SELECT partition_name AS name, day, row_count
FROM pgrecall.drop_event_partitions(:keep_days);

-- name: list_event_partitions :many
-- @returns pgrecall.models:EventPartition
-- The partitions of pgrecall.events with their day and the tenant's own row count in
-- each (a tenant sees only its own activity; partition names are catalog data). The
-- count reads the tenant's events (index events_tenant_time_idx per partition).
-- @notnull row_count
SELECT c.relname AS name,
       CASE WHEN c.relname ~ '^events_p[0-9]{8}$'
            THEN to_date(substr(c.relname, 9), 'YYYYMMDD') END AS day,
       coalesce(n.row_count, 0)::bigint AS row_count
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
LEFT JOIN (
    SELECT e.tableoid, count(*) AS row_count
    FROM pgrecall.events AS e
    WHERE e.tenant_id = :tenant_id
    GROUP BY e.tableoid
) AS n ON n.tableoid = c.oid
WHERE i.inhparent = 'pgrecall.events'::regclass
ORDER BY c.relname;
