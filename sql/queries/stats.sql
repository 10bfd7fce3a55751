-- name: tenant_table_counts :many
-- @returns pgrecall.models:TableCount
-- Rows of the tenant in every pgrecall table that has a tenant_id column (found in the
-- catalog, so tables added by later migrations are counted too; row level security
-- applies).
-- @notnull table_name, row_count
SELECT table_name, row_count
FROM pgrecall.tenant_row_counts(:tenant_id);

-- name: conversation_totals :many
-- @returns pgrecall.models:ConversationTotals
-- Message and token totals per conversation (one conversation, or a user's, or the
-- tenant's), most tokens first.
SELECT c.id AS conversation_id,
       count(m.id)::bigint AS messages,
       count(m.id) FILTER (WHERE m.role = 'user')::bigint AS user_messages,
       count(m.id) FILTER (WHERE m.role = 'assistant')::bigint AS assistant_messages,
       coalesce(sum(m.token_count), 0)::bigint AS tokens,
       coalesce(sum(m.input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(m.output_tokens), 0)::bigint AS output_tokens,
       min(m.created_at) AS first_at,
       max(m.created_at) AS last_at
FROM pgrecall.conversations AS c
LEFT JOIN pgrecall.messages AS m ON m.tenant_id = c.tenant_id AND m.conversation_id = c.id
WHERE c.tenant_id = :tenant_id
  AND (:conversation_id::uuid IS NULL OR c.id = :conversation_id::uuid)
  AND (:user_id::text IS NULL OR c.user_id = :user_id::text)
GROUP BY c.id
ORDER BY tokens DESC, c.id
LIMIT :limit;

-- name: model_usage :many
-- @returns pgrecall.models:ModelUsage
-- Per model, the LLM calls recorded on messages in [:since, :until): calls, billed
-- tokens and latency percentiles (p50, p95 of latency_ms).
SELECT model,
       count(*)::bigint AS calls,
       coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS latency_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS latency_p95_ms
FROM pgrecall.messages
WHERE tenant_id = :tenant_id
  AND model IS NOT NULL
  AND created_at >= :since
  AND created_at < :until
GROUP BY model
ORDER BY calls DESC, model;

-- name: events_per_day :many
-- @returns pgrecall.models:EventsPerDay
-- Events per day (UTC) and type in [:since, :until), optionally of one type
-- (partition pruning on occurred_at; index events_type_idx).
SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, type, count(*)::bigint AS events
FROM pgrecall.events
WHERE tenant_id = :tenant_id
  AND occurred_at >= :since
  AND occurred_at < :until
  AND (:type::text IS NULL OR type = :type::text)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: run_outcomes :many
-- @returns pgrecall.models:RunOutcome
-- Runs created in [:since, :until) by kind and status: count, tokens, cost and
-- duration percentiles (index runs_kind_created_idx).
SELECT kind,
       status,
       count(*)::bigint AS runs,
       coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
       coalesce(sum(cost), 0) AS cost,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS duration_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS duration_p95_ms
FROM pgrecall.runs
WHERE tenant_id = :tenant_id
  AND created_at >= :since
  AND created_at < :until
GROUP BY kind, status
ORDER BY kind, status;
