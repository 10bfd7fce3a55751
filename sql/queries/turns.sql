-- Statements of the one-round-trip chat turn (store.chat_turn), beyond the message
-- and memory statements it reuses (append_message, last_messages, context_window,
-- get_message_by_request_id, set_vector_search, recall_memories).

-- name: check_model_dimensions :scalar
-- Guard for a pipelined turn that recalls memories with a cached model dimension:
-- 1 when :model is declared with :dimensions, else division by zero (SQLSTATE 22012),
-- which aborts the turn's implicit transaction before anything is written, so the
-- caller re-reads the dimension and sends the turn again.
SELECT 1 / (SELECT count(*)::integer
            FROM pgrecall.embedding_models
            WHERE tenant_id = :tenant_id AND name = :model AND dimensions = :dimensions);
