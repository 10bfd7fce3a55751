-- name: append_message :one
-- @returns pgrecall.models:Message
-- Append a message. The trigger assigns seq, keeps the conversation counters and
-- skips a duplicate request_id; then no row comes back and the caller reads the
-- existing message with get_message_by_request_id.
INSERT INTO pgrecall.messages AS m
    (tenant_id, conversation_id, role, content, thinking, metadata, token_count,
     input_tokens, output_tokens, model, latency_ms, request_id, source)
VALUES
    (:tenant_id, :conversation_id, :role, :content, :thinking, :metadata, :token_count,
     :input_tokens, :output_tokens, :model, :latency_ms, :request_id, :source)
RETURNING m.tenant_id, m.id, m.conversation_id, m.seq, m.role, m.content, m.thinking, m.metadata,
          m.token_count, m.input_tokens, m.output_tokens, m.model, m.latency_ms, m.request_id,
          m.source, m.created_at;

-- name: get_message_by_request_id :one
-- @returns pgrecall.models:Message
-- The message appended with this idempotency key (index messages_request_id_key).
SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
       input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
FROM pgrecall.messages
WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id AND request_id = :request_id;

-- name: get_message :one
-- @returns pgrecall.models:Message
-- One message by id.
SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
       input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
FROM pgrecall.messages
WHERE tenant_id = :tenant_id AND id = :id;

-- name: last_messages :many
-- @returns pgrecall.models:Message
-- The newest :n messages, returned oldest first (backward scan of messages_seq_key).
-- An unknown conversation raises PR404 (require_conversation: once per statement).
SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
       input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
FROM (
    SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
           input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
    FROM pgrecall.messages
    WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id
      AND pgrecall.require_conversation(:tenant_id, :conversation_id)
    ORDER BY seq DESC
    LIMIT :n
) AS newest
ORDER BY seq;

-- name: page_messages :many
-- @returns pgrecall.models:Message
-- History in order, keyset-paged on seq: the messages after :after_seq (0 = start).
-- An unknown conversation raises PR404.
SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
       input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
FROM pgrecall.messages
WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id AND seq > :after_seq
  AND pgrecall.require_conversation(:tenant_id, :conversation_id)
ORDER BY seq
LIMIT :limit;

-- name: count_messages_by_role :many
-- @returns pgrecall.models:RoleCount
-- How many messages of each role a conversation has (PR404 for an unknown one).
SELECT role, count(*)::integer AS count
FROM pgrecall.messages
WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id
  AND pgrecall.require_conversation(:tenant_id, :conversation_id)
GROUP BY role
ORDER BY role;

-- name: messages_by_source :many
-- @returns pgrecall.models:Message
-- A tenant's messages from one source, newest first (index messages_source_idx).
SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
       input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
FROM pgrecall.messages
WHERE tenant_id = :tenant_id AND source = :source
ORDER BY created_at DESC
LIMIT :limit;

-- name: context_window :many
-- @returns pgrecall.models:Message
-- The LLM context in one statement: the conversation's first system message (the
-- system prompt, always kept) plus the newest other messages whose running token
-- total fits :max_tokens (at most :max_messages of them), oldest first. An unknown
-- conversation raises PR404.
WITH system_prompt AS (
    SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
           input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
    FROM pgrecall.messages
    WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id AND role = 'system'
      AND pgrecall.require_conversation(:tenant_id, :conversation_id)
    ORDER BY seq
    LIMIT 1
),
newest AS (
    SELECT m.tenant_id, m.id, m.conversation_id, m.seq, m.role, m.content, m.thinking,
           m.metadata, m.token_count, m.input_tokens, m.output_tokens, m.model, m.latency_ms,
           m.request_id, m.source, m.created_at,
           sum(m.token_count) OVER (ORDER BY m.seq DESC ROWS UNBOUNDED PRECEDING) AS running
    FROM pgrecall.messages AS m
    WHERE m.tenant_id = :tenant_id
      AND m.conversation_id = :conversation_id
      AND m.id <> ALL(ARRAY(SELECT id FROM system_prompt))
    ORDER BY m.seq DESC
    LIMIT :max_messages
)
SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
       input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
FROM (
    SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
           input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
    FROM system_prompt
    UNION ALL
    SELECT tenant_id, id, conversation_id, seq, role, content, thinking, metadata, token_count,
           input_tokens, output_tokens, model, latency_ms, request_id, source, created_at
    FROM newest
    WHERE running <= :max_tokens - coalesce((SELECT sum(token_count) FROM system_prompt), 0)
) AS window_rows
ORDER BY seq;
