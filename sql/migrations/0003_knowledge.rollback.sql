-- Dropping the tables drops their indexes, triggers, policies and grants.
DROP TABLE IF EXISTS pgrecall.embeddings;
DROP TABLE IF EXISTS pgrecall.memories;
DROP TABLE IF EXISTS pgrecall.analyses;
DROP TABLE IF EXISTS pgrecall.documents;
DROP TABLE IF EXISTS pgrecall.embedding_models;
DROP FUNCTION IF EXISTS pgrecall.analyses_immutable();
DROP FUNCTION IF EXISTS pgrecall.analyses_before_insert();
DROP FUNCTION IF EXISTS pgrecall.documents_search_vector();
DROP FUNCTION IF EXISTS pgrecall.document_search_vector(text, text, jsonb, text, text, text[]);
DROP FUNCTION IF EXISTS pgrecall.search_vector(text);
