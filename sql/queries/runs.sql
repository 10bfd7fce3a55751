-- name: create_run :one
-- @returns pgrecall.models:Run
-- Queue a run (status pending). The user row is created on first use. A request_id
-- already used in the tenant inserts nothing: no row comes back and the caller reads
-- the first run with get_run_by_request_id.
WITH new_user AS (
    INSERT INTO pgrecall.users (tenant_id, user_id)
    SELECT :tenant_id, :user_id::text
    WHERE :user_id::text IS NOT NULL
    ON CONFLICT (tenant_id, user_id) DO NOTHING
)
INSERT INTO pgrecall.runs AS r
    (tenant_id, kind, priority, input, provider, model, request_id, trace_id,
     conversation_id, user_id, metadata, max_attempts, available_at)
VALUES
    (:tenant_id, :kind, :priority, :input, :provider, :model, :request_id, :trace_id,
     :conversation_id, :user_id, :metadata, :max_attempts,
     coalesce(:available_at::timestamptz, now()))
ON CONFLICT ON CONSTRAINT runs_request_id_key DO NOTHING
RETURNING r.tenant_id, r.id, r.kind, r.status, r.priority, r.input, r.output, r.error,
          r.provider, r.model, r.input_tokens, r.output_tokens, r.cost, r.request_id,
          r.trace_id, r.conversation_id, r.user_id, r.metadata, r.worker_id, r.attempts,
          r.max_attempts, r.available_at, r.heartbeat_at, r.created_at, r.started_at,
          r.finished_at, r.updated_at, r.duration_ms;

-- name: get_run :one
-- @returns pgrecall.models:Run
-- One run by id.
SELECT tenant_id, id, kind, status, priority, input, output, error, provider, model,
       input_tokens, output_tokens, cost, request_id, trace_id, conversation_id, user_id,
       metadata, worker_id, attempts, max_attempts, available_at, heartbeat_at, created_at,
       started_at, finished_at, updated_at, duration_ms
FROM pgrecall.runs
WHERE tenant_id = :tenant_id AND id = :id;

-- name: get_run_by_request_id :one
-- @returns pgrecall.models:Run
-- The run created with this idempotency key (constraint runs_request_id_key).
SELECT tenant_id, id, kind, status, priority, input, output, error, provider, model,
       input_tokens, output_tokens, cost, request_id, trace_id, conversation_id, user_id,
       metadata, worker_id, attempts, max_attempts, available_at, heartbeat_at, created_at,
       started_at, finished_at, updated_at, duration_ms
FROM pgrecall.runs
WHERE tenant_id = :tenant_id AND request_id = :request_id;

-- name: list_runs :many
-- @returns pgrecall.models:Run
-- Runs newest first, optionally of one kind / statuses / conversation / user,
-- keyset-paged on (created_at, id). Index: runs_kind_created_idx, runs_conversation_idx.
SELECT tenant_id, id, kind, status, priority, input, output, error, provider, model,
       input_tokens, output_tokens, cost, request_id, trace_id, conversation_id, user_id,
       metadata, worker_id, attempts, max_attempts, available_at, heartbeat_at, created_at,
       started_at, finished_at, updated_at, duration_ms
FROM pgrecall.runs
WHERE tenant_id = :tenant_id
  AND (:kind::text IS NULL OR kind = :kind::text)
  AND (:statuses::text[] IS NULL OR status = ANY(:statuses::text[]))
  AND (:conversation_id::uuid IS NULL OR conversation_id = :conversation_id::uuid)
  AND (:user_id::text IS NULL OR user_id = :user_id::text)
  AND (:before_created::timestamptz IS NULL
       OR (created_at, id) < (:before_created::timestamptz, :before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: claim_next_run :one
-- @returns pgrecall.models:Run
-- A worker takes the next pending run of :kind (highest priority, then oldest) whose
-- available_at has come: FOR UPDATE SKIP LOCKED, so concurrent workers never take the
-- same run and never wait for each other. The trigger stamps started_at / heartbeat_at.
UPDATE pgrecall.runs AS r
SET status = 'running', worker_id = :worker_id, attempts = r.attempts + 1
WHERE r.tenant_id = :tenant_id
  AND r.id = (
    SELECT q.id
    FROM pgrecall.runs AS q
    WHERE q.tenant_id = :tenant_id
      AND q.kind = :kind
      AND q.status = 'pending'
      AND q.available_at <= now()
    ORDER BY q.priority DESC, q.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
  )
RETURNING r.tenant_id, r.id, r.kind, r.status, r.priority, r.input, r.output, r.error,
          r.provider, r.model, r.input_tokens, r.output_tokens, r.cost, r.request_id,
          r.trace_id, r.conversation_id, r.user_id, r.metadata, r.worker_id, r.attempts,
          r.max_attempts, r.available_at, r.heartbeat_at, r.created_at, r.started_at,
          r.finished_at, r.updated_at, r.duration_ms;

-- name: heartbeat_run :one
-- @returns pgrecall.models:Run
-- The worker holding a running run says it is alive. No row: not running, or held by
-- another worker (it was requeued as stale and claimed again). The clock is read in a
-- sub-select: Citus refuses a VOLATILE function in an UPDATE of a distributed table.
UPDATE pgrecall.runs AS r
SET heartbeat_at = (SELECT clock_timestamp())
WHERE r.tenant_id = :tenant_id AND r.id = :id AND r.status = 'running'
  AND (:worker_id::text IS NULL OR r.worker_id = :worker_id::text)
RETURNING r.tenant_id, r.id, r.kind, r.status, r.priority, r.input, r.output, r.error,
          r.provider, r.model, r.input_tokens, r.output_tokens, r.cost, r.request_id,
          r.trace_id, r.conversation_id, r.user_id, r.metadata, r.worker_id, r.attempts,
          r.max_attempts, r.available_at, r.heartbeat_at, r.created_at, r.started_at,
          r.finished_at, r.updated_at, r.duration_ms;

-- name: set_run_status :one
-- @returns pgrecall.models:Run
-- Move a run to :status, recording what is given (NULL keeps the current value).
-- Only a move the status machine allows matches (the same pairs as the trigger, which
-- refuses any other UPDATE with PR409); no row comes back otherwise, so a succeeded run
-- is never "succeeded" again. With :worker_id, only the worker that holds the run may
-- move it. With :retry, a failure goes back to pending (available again
-- after :retry_delay_s seconds) while attempts < max_attempts. The times come from the
-- one-row clock: Citus refuses non-IMMUTABLE functions (now(), timestamptz + interval)
-- inside CASE in an UPDATE of a distributed table.
UPDATE pgrecall.runs AS r
SET status = CASE WHEN :status = 'failed' AND :retry AND r.attempts < r.max_attempts
                  THEN 'pending' ELSE :status END,
    output = coalesce(:output, r.output),
    error = coalesce(:error, r.error),
    provider = coalesce(:provider, r.provider),
    model = coalesce(:model, r.model),
    input_tokens = coalesce(:input_tokens, r.input_tokens),
    output_tokens = coalesce(:output_tokens, r.output_tokens),
    cost = coalesce(:cost, r.cost),
    trace_id = coalesce(:trace_id, r.trace_id),
    available_at = CASE WHEN :status = 'failed' AND :retry AND r.attempts < r.max_attempts
                        THEN clock.later
                        WHEN :status = 'pending' THEN clock.now
                        ELSE r.available_at END,
    worker_id = CASE WHEN :status = 'running' THEN coalesce(:worker_id, r.worker_id)
                     ELSE r.worker_id END
FROM (SELECT now() AS now, now() + make_interval(secs => :retry_delay_s) AS later) AS clock
WHERE r.tenant_id = :tenant_id AND r.id = :id
  AND (r.status, :status::text) IN (
        ('pending', 'running'), ('pending', 'cancelled'),
        ('running', 'succeeded'), ('running', 'failed'), ('running', 'cancelled'),
        ('running', 'pending'), ('failed', 'pending'))
  AND (:worker_id::text IS NULL OR :status = 'running' OR r.worker_id = :worker_id::text)
RETURNING r.tenant_id, r.id, r.kind, r.status, r.priority, r.input, r.output, r.error,
          r.provider, r.model, r.input_tokens, r.output_tokens, r.cost, r.request_id,
          r.trace_id, r.conversation_id, r.user_id, r.metadata, r.worker_id, r.attempts,
          r.max_attempts, r.available_at, r.heartbeat_at, r.created_at, r.started_at,
          r.finished_at, r.updated_at, r.duration_ms;

-- name: requeue_stale_runs :many
-- @returns pgrecall.models:Run
-- Stale-running recovery: runs whose worker has not heart-beaten for :stale_after_s
-- seconds go back to pending (or to failed once max_attempts is spent). Index:
-- runs_heartbeat_idx. The message is formatted in the CTE: Citus refuses a STABLE
-- function (format of a timestamptz) with column references in an UPDATE's SET.
WITH stale AS (
    SELECT q.id,
           format('worker %s stopped heart-beating (last at %s)', q.worker_id, q.heartbeat_at)
               AS error
    FROM pgrecall.runs AS q
    WHERE q.tenant_id = :tenant_id
      AND q.status = 'running'
      AND q.heartbeat_at < now() - make_interval(secs => :stale_after_s)
    FOR UPDATE
)
UPDATE pgrecall.runs AS r
SET status = CASE WHEN r.attempts < r.max_attempts THEN 'pending' ELSE 'failed' END,
    error = s.error,
    available_at = now()
FROM stale AS s
WHERE r.tenant_id = :tenant_id AND r.id = s.id AND r.status = 'running'
RETURNING r.tenant_id, r.id, r.kind, r.status, r.priority, r.input, r.output, r.error,
          r.provider, r.model, r.input_tokens, r.output_tokens, r.cost, r.request_id,
          r.trace_id, r.conversation_id, r.user_id, r.metadata, r.worker_id, r.attempts,
          r.max_attempts, r.available_at, r.heartbeat_at, r.created_at, r.started_at,
          r.finished_at, r.updated_at, r.duration_ms;

-- name: delete_run :exec
-- Delete a run for good.
DELETE FROM pgrecall.runs
WHERE tenant_id = :tenant_id AND id = :id;

-- name: run_documents :many
-- @returns pgrecall.models:Document
-- The files attached to a run: documents whose run_id is the run (index documents_run_idx).
SELECT tenant_id, id, filename, original_filename, storage_uri, size_bytes, mime_type, sha256,
       title, source, conversation_id, run_id, metadata, analysis_version, created_at, updated_at
FROM pgrecall.documents
WHERE tenant_id = :tenant_id AND run_id = :run_id
ORDER BY created_at, id;
