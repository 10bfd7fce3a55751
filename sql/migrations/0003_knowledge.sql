-- 0003 knowledge: documents, versioned analyses, embedding models, embeddings (chunks),
-- long-term memories; full-text search (tsvector + GIN) and vector search (HNSW, cosine).
--
-- Vectors: the columns are plain `vector` (no fixed dimension) plus a `dimensions`
-- column, so several embedding models coexist. Each supported dimension (384, 768,
-- 1024, 1536) has one HNSW cosine index, a partial expression index
--     USING hnsw ((embedding::vector(N)) vector_cosine_ops) WHERE dimensions = N
-- and the search queries cast the same way (`embedding::vector(N) <=> $1::vector(N)`
-- with `dimensions = N` as a literal), so the planner can use it. Other dimensions are
-- stored and searched exactly (no index). Adding a dimension: a `-- transactional: false`
-- migration with CREATE INDEX CONCURRENTLY of the same shape on both tables.
--
-- Full-text: tsvectors hold both the 'english' (stemmed) and the 'simple' (exact word)
-- lexemes, so a query may use either configuration against one column and one index.
--
-- Custom SQLSTATEs: PR404 (document not found when analysing), PR409 (analyses are immutable).

CREATE FUNCTION pgrecall.search_vector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT to_tsvector('pg_catalog.english'::regconfig, coalesce(body, ''))
        || to_tsvector('pg_catalog.simple'::regconfig, coalesce(body, ''))
$$;

COMMENT ON FUNCTION pgrecall.search_vector(text) IS
    'Lexemes of body under both ''english'' (stemmed) and ''simple'' (exact words): queries '
    'built with websearch_to_tsquery(''english'' or ''simple'', q) both match one column.';

CREATE FUNCTION pgrecall.document_search_vector(
    title text, filename text, metadata jsonb, category text, summary text, tags text[]
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT setweight(pgrecall.search_vector(title), 'A')
        || setweight(pgrecall.search_vector(concat_ws(' ', category, array_to_string(tags, ' '))), 'B')
        || setweight(pgrecall.search_vector(summary), 'C')
        || setweight(pgrecall.search_vector(regexp_replace(coalesce(filename, ''), '[-_./]+', ' ', 'g')), 'D')
        || setweight(jsonb_to_tsvector('pg_catalog.english'::regconfig, coalesce(metadata, '{}'), '["string"]')
                     || jsonb_to_tsvector('pg_catalog.simple'::regconfig, coalesce(metadata, '{}'), '["string"]'), 'D')
$$;

COMMENT ON FUNCTION pgrecall.document_search_vector(text, text, jsonb, text, text, text[]) IS
    'The searchable text of a document, weighted: A title; B category and tags of the latest '
    'analysis; C its summary; D file name words (original name, else stored name) and every '
    'string value of metadata.';

-- Embedding models --------------------------------------------------------------------

CREATE TABLE pgrecall.embedding_models (
    tenant_id    text        NOT NULL CONSTRAINT embedding_models_tenant_id_check CHECK (tenant_id <> ''),
    name         text        NOT NULL CONSTRAINT embedding_models_name_check CHECK (name <> ''),
    dimensions   integer     NOT NULL
                             CONSTRAINT embedding_models_dimensions_check CHECK (dimensions BETWEEN 1 AND 16000),
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT embedding_models_pkey PRIMARY KEY (tenant_id, name),
    CONSTRAINT embedding_models_dimensions_key UNIQUE (tenant_id, name, dimensions)
);

COMMENT ON TABLE pgrecall.embedding_models IS
    'The embedding models a tenant uses and their declared dimension. Every stored vector '
    'names its model, and the (model, dimensions) foreign keys make a vector of the wrong '
    'dimension impossible; the library also checks before sending.';
COMMENT ON COLUMN pgrecall.embedding_models.name IS 'Model name as the application calls it (e.g. all-MiniLM-L6-v2).';
COMMENT ON COLUMN pgrecall.embedding_models.dimensions IS
    'Vector length. 384, 768, 1024 and 1536 have HNSW indexes; other lengths are searched exactly.';
COMMENT ON CONSTRAINT embedding_models_dimensions_key ON pgrecall.embedding_models IS
    'Target of the (tenant_id, model, dimensions) foreign keys of embeddings and memories.';

-- Documents ---------------------------------------------------------------------------

CREATE TABLE pgrecall.documents (
    tenant_id          text        NOT NULL CONSTRAINT documents_tenant_id_check CHECK (tenant_id <> ''),
    id                 uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    filename           text        NOT NULL CONSTRAINT documents_filename_check CHECK (filename <> ''),
    original_filename  text,
    storage_uri        text,
    size_bytes         bigint      CONSTRAINT documents_size_bytes_check CHECK (size_bytes >= 0),
    mime_type          text,
    sha256             text        CONSTRAINT documents_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    title              text        NOT NULL DEFAULT '',
    source             text,
    conversation_id    uuid,
    run_id             uuid,
    metadata           jsonb       NOT NULL DEFAULT '{}'
                                   CONSTRAINT documents_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    analysis_version   integer     NOT NULL DEFAULT 0,
    search_vector      tsvector    NOT NULL DEFAULT ''::tsvector,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT documents_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT documents_sha256_key UNIQUE (tenant_id, sha256),
    CONSTRAINT documents_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id)
);

COMMENT ON TABLE pgrecall.documents IS
    'An uploaded file or item (the bytes live in storage_uri). Deleting a document deletes its '
    'analyses and embeddings. search_vector is kept by triggers from the title, file name, '
    'metadata and the latest analysis.';
COMMENT ON COLUMN pgrecall.documents.filename IS 'Name under which the file is stored.';
COMMENT ON COLUMN pgrecall.documents.original_filename IS 'Name of the file as uploaded.';
COMMENT ON COLUMN pgrecall.documents.storage_uri IS 'Where the bytes are: path, s3:// or https:// URI.';
COMMENT ON COLUMN pgrecall.documents.sha256 IS
    'Hex SHA-256 of the content (lower case); unique per tenant, so an upload is stored once.';
COMMENT ON COLUMN pgrecall.documents.source IS 'Where the document came from (upload, crawl, email, a tool name...).';
COMMENT ON COLUMN pgrecall.documents.conversation_id IS 'Conversation it was shared in (nullable; cleared when the conversation is purged).';
COMMENT ON COLUMN pgrecall.documents.run_id IS 'Run that produced it (nullable; foreign key documents_run_fkey from 0011).';
COMMENT ON COLUMN pgrecall.documents.analysis_version IS
    'Version of the latest analysis (0 = none); the analyses trigger increments it under the row lock.';
COMMENT ON COLUMN pgrecall.documents.search_vector IS
    'Full-text lexemes (pgrecall.document_search_vector), kept by triggers; index documents_search_idx.';

COMMENT ON CONSTRAINT documents_sha256_key ON pgrecall.documents IS
    'Dedupe: one document per content hash per tenant (NULL hashes are not deduplicated).';

CREATE INDEX documents_created_idx ON pgrecall.documents (tenant_id, created_at DESC, id DESC);
COMMENT ON INDEX pgrecall.documents_created_idx IS 'list_documents: newest first, keyset-paged on (created_at, id).';

CREATE INDEX documents_conversation_idx
    ON pgrecall.documents (tenant_id, conversation_id, created_at DESC) WHERE conversation_id IS NOT NULL;
COMMENT ON INDEX pgrecall.documents_conversation_idx IS
    'Documents of a conversation (list filter, vector search filter, SET NULL on purge).';

CREATE INDEX documents_run_idx ON pgrecall.documents (tenant_id, run_id) WHERE run_id IS NOT NULL;
COMMENT ON INDEX pgrecall.documents_run_idx IS 'Documents produced by a run (list filter).';

CREATE INDEX documents_search_idx ON pgrecall.documents USING gin (search_vector);
COMMENT ON INDEX pgrecall.documents_search_idx IS 'search_text: websearch_to_tsquery matches (@@).';

CREATE INDEX documents_metadata_idx ON pgrecall.documents USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX pgrecall.documents_metadata_idx IS 'list_documents / search_text: metadata containment (@>) filters.';

CREATE TRIGGER documents_touch
    BEFORE UPDATE OF filename, original_filename, storage_uri, size_bytes, mime_type, sha256,
                     title, source, conversation_id, run_id, metadata
    ON pgrecall.documents
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

CREATE FUNCTION pgrecall.documents_search_vector() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    a_category text;
    a_summary  text;
    a_tags     text[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT a.category, a.summary, a.tags INTO a_category, a_summary, a_tags
          FROM pgrecall.analyses a
         WHERE a.tenant_id = NEW.tenant_id AND a.document_id = NEW.id
         ORDER BY a.version DESC
         LIMIT 1;
    END IF;
    NEW.search_vector := pgrecall.document_search_vector(
        NEW.title, coalesce(NEW.original_filename, NEW.filename), NEW.metadata,
        a_category, a_summary, a_tags);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgrecall.documents_search_vector() IS
    'BEFORE INSERT / UPDATE OF title, filename, original_filename, metadata: recomputes '
    'search_vector with the latest analysis (analyses_before_insert does it when an analysis arrives).';

CREATE TRIGGER documents_search_vector
    BEFORE INSERT OR UPDATE OF title, filename, original_filename, metadata ON pgrecall.documents
    FOR EACH ROW EXECUTE FUNCTION pgrecall.documents_search_vector();

-- Analyses ----------------------------------------------------------------------------

CREATE TABLE pgrecall.analyses (
    tenant_id     text        NOT NULL CONSTRAINT analyses_tenant_id_check CHECK (tenant_id <> ''),
    id            uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    document_id   uuid        NOT NULL,
    version       integer     NOT NULL DEFAULT 0,
    category      text,
    summary       text,
    tags          text[]      NOT NULL DEFAULT '{}'
                              CONSTRAINT analyses_tags_check CHECK (array_position(tags, NULL) IS NULL),
    raw_response  jsonb       NOT NULL DEFAULT '{}',
    provider      text,
    model         text,
    trace_id      text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analyses_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT analyses_version_key UNIQUE (tenant_id, document_id, version),
    CONSTRAINT analyses_document_fkey FOREIGN KEY (tenant_id, document_id)
        REFERENCES pgrecall.documents (tenant_id, id) ON DELETE CASCADE
);

COMMENT ON TABLE pgrecall.analyses IS
    'AI analyses of a document, versioned 1, 2, 3 ... per document (assigned by trigger under '
    'the document row lock, so concurrent analyses never share a version). Immutable: a new '
    'analysis is a new version; rows go only with their document.';
COMMENT ON COLUMN pgrecall.analyses.version IS 'Position in the document''s analysis history, gap-free from 1 (assigned by trigger).';
COMMENT ON COLUMN pgrecall.analyses.category IS 'Classification chosen by the model (free text).';
COMMENT ON COLUMN pgrecall.analyses.tags IS 'Keywords; searchable through the document''s search_vector (weight B).';
COMMENT ON COLUMN pgrecall.analyses.raw_response IS 'The provider''s full response (any JSON), kept for audit and reprocessing.';
COMMENT ON COLUMN pgrecall.analyses.trace_id IS 'Tracing id of the model call (e.g. an OpenTelemetry or Langfuse trace).';
COMMENT ON CONSTRAINT analyses_version_key ON pgrecall.analyses IS
    'One analysis per version; serves latest (backward scan) and history.';

CREATE FUNCTION pgrecall.analyses_before_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- The UPDATE locks the document row: analyses of one document are serialized, so
    -- the version is gap-free and unique; the search_vector takes the new analysis.
    UPDATE pgrecall.documents d
       SET analysis_version = d.analysis_version + 1,
           search_vector = pgrecall.document_search_vector(
               d.title, coalesce(d.original_filename, d.filename), d.metadata,
               NEW.category, NEW.summary, NEW.tags)
     WHERE d.tenant_id = NEW.tenant_id AND d.id = NEW.document_id
    RETURNING d.analysis_version INTO NEW.version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'document % not found', NEW.document_id USING ERRCODE = 'PR404';
    END IF;
    NEW.created_at := clock_timestamp();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION pgrecall.analyses_before_insert() IS
    'Assigns version = documents.analysis_version + 1 under the document row lock and '
    'refreshes the document''s search_vector; PR404 for an unknown document.';

CREATE TRIGGER analyses_before_insert BEFORE INSERT ON pgrecall.analyses
    FOR EACH ROW EXECUTE FUNCTION pgrecall.analyses_before_insert();

CREATE FUNCTION pgrecall.analyses_immutable() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- A cascade from deleting the document runs inside the RI trigger (depth > 1).
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'analyses are immutable (% refused); add a new version or delete the document', TG_OP
        USING ERRCODE = 'PR409';
END
$$;

COMMENT ON FUNCTION pgrecall.analyses_immutable() IS
    'Rejects UPDATE and direct DELETE of analyses; they go only with their document (cascade).';

CREATE TRIGGER analyses_immutable BEFORE UPDATE OR DELETE ON pgrecall.analyses
    FOR EACH ROW EXECUTE FUNCTION pgrecall.analyses_immutable();

-- Memories ----------------------------------------------------------------------------

CREATE TABLE pgrecall.memories (
    tenant_id         text        NOT NULL CONSTRAINT memories_tenant_id_check CHECK (tenant_id <> ''),
    id                uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    user_id           text,
    conversation_id   uuid,
    persona_id        uuid,
    message_id        uuid,
    kind              text        NOT NULL DEFAULT 'fact'
                                  CONSTRAINT memories_kind_check
                                  CHECK (kind IN ('episodic', 'semantic', 'preference', 'fact', 'procedural')),
    content           text        NOT NULL CONSTRAINT memories_content_check CHECK (content <> ''),
    importance        real        NOT NULL DEFAULT 0.5
                                  CONSTRAINT memories_importance_check CHECK (importance BETWEEN 0 AND 1),
    embedding         vector,
    model             text,
    dimensions        integer,
    metadata          jsonb       NOT NULL DEFAULT '{}'
                                  CONSTRAINT memories_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    access_count      integer     NOT NULL DEFAULT 0,
    last_accessed_at  timestamptz,
    expires_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memories_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT memories_embedding_check CHECK (
        (embedding IS NULL AND model IS NULL AND dimensions IS NULL)
        OR (embedding IS NOT NULL AND model IS NOT NULL AND vector_dims(embedding) = dimensions)),
    CONSTRAINT memories_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES pgrecall.users (tenant_id, user_id) ON DELETE CASCADE,
    CONSTRAINT memories_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES pgrecall.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id),
    CONSTRAINT memories_message_fkey FOREIGN KEY (tenant_id, message_id)
        REFERENCES pgrecall.messages (tenant_id, id) ON DELETE SET NULL (message_id),
    CONSTRAINT memories_model_fkey FOREIGN KEY (tenant_id, model, dimensions)
        REFERENCES pgrecall.embedding_models (tenant_id, name, dimensions)
);

COMMENT ON TABLE pgrecall.memories IS
    'Long-term memory items of an agent (per user, optionally per conversation / persona). '
    'recall ranks them by relevance (cosine), importance and recency and counts each access. '
    'They outlive their conversation (conversation_id, message_id are cleared on purge) but '
    'not their user.';
COMMENT ON COLUMN pgrecall.memories.persona_id IS 'Persona the memory belongs to (nullable; foreign key memories_persona_fkey from 0011).';
COMMENT ON COLUMN pgrecall.memories.message_id IS 'The (first) message the memory was drawn from.';
COMMENT ON COLUMN pgrecall.memories.kind IS 'episodic | semantic | preference | fact | procedural.';
COMMENT ON COLUMN pgrecall.memories.importance IS 'Weight 0..1 set by the application; lowered by the decay sweep.';
COMMENT ON COLUMN pgrecall.memories.embedding IS 'Vector of content (nullable: a memory without one is never recalled by similarity).';
COMMENT ON COLUMN pgrecall.memories.access_count IS 'Times recalled; incremented by recall in the same statement.';
COMMENT ON COLUMN pgrecall.memories.last_accessed_at IS 'Last recall; recency decay counts from here (else from created_at).';
COMMENT ON COLUMN pgrecall.memories.expires_at IS 'Not recalled after this time; purge_expired deletes it.';

CREATE INDEX memories_user_idx
    ON pgrecall.memories (tenant_id, user_id, created_at DESC) WHERE user_id IS NOT NULL;
COMMENT ON INDEX pgrecall.memories_user_idx IS 'list_memories: a user''s memories, newest first.';

CREATE INDEX memories_conversation_idx
    ON pgrecall.memories (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;
COMMENT ON INDEX pgrecall.memories_conversation_idx IS 'Conversation filter; SET NULL when the conversation is purged.';

CREATE INDEX memories_message_idx ON pgrecall.memories (tenant_id, message_id) WHERE message_id IS NOT NULL;
COMMENT ON INDEX pgrecall.memories_message_idx IS 'SET NULL when the message goes (conversation purge).';

CREATE INDEX memories_expires_idx ON pgrecall.memories (tenant_id, expires_at) WHERE expires_at IS NOT NULL;
COMMENT ON INDEX pgrecall.memories_expires_idx IS 'purge_expired_memories.';

CREATE INDEX memories_model_idx
    ON pgrecall.memories (tenant_id, model, dimensions) WHERE model IS NOT NULL;
COMMENT ON INDEX pgrecall.memories_model_idx IS
    'Exact recall for dimensions without an HNSW index; the model foreign key.';

CREATE INDEX memories_hnsw_384_idx ON pgrecall.memories
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dimensions = 384;
COMMENT ON INDEX pgrecall.memories_hnsw_384_idx IS 'recall, 384-dimensional models (cosine).';
CREATE INDEX memories_hnsw_768_idx ON pgrecall.memories
    USING hnsw ((embedding::vector(768)) vector_cosine_ops) WHERE dimensions = 768;
COMMENT ON INDEX pgrecall.memories_hnsw_768_idx IS 'recall, 768-dimensional models (cosine).';
CREATE INDEX memories_hnsw_1024_idx ON pgrecall.memories
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE dimensions = 1024;
COMMENT ON INDEX pgrecall.memories_hnsw_1024_idx IS 'recall, 1024-dimensional models (cosine).';
CREATE INDEX memories_hnsw_1536_idx ON pgrecall.memories
    USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE dimensions = 1536;
COMMENT ON INDEX pgrecall.memories_hnsw_1536_idx IS 'recall, 1536-dimensional models (cosine).';

-- Not on access: recall updates access_count / last_accessed_at without touching updated_at.
CREATE TRIGGER memories_touch
    BEFORE UPDATE OF user_id, persona_id, kind, content, importance, embedding, model, dimensions,
                     metadata, expires_at
    ON pgrecall.memories
    FOR EACH ROW EXECUTE FUNCTION pgrecall.touch_updated_at();

-- Embeddings --------------------------------------------------------------------------

CREATE TABLE pgrecall.embeddings (
    tenant_id      text        NOT NULL CONSTRAINT embeddings_tenant_id_check CHECK (tenant_id <> ''),
    id             uuid        NOT NULL DEFAULT pgrecall.uuid_v7(),
    document_id    uuid,
    analysis_id    uuid,
    memory_id      uuid,
    chunk_index    integer     NOT NULL DEFAULT 0 CONSTRAINT embeddings_chunk_index_check CHECK (chunk_index >= 0),
    content        text        NOT NULL,
    embedding      vector      NOT NULL,
    model          text        NOT NULL,
    dimensions     integer     NOT NULL,
    source         jsonb       NOT NULL DEFAULT '{}'
                               CONSTRAINT embeddings_source_check CHECK (jsonb_typeof(source) = 'object'),
    search_vector  tsvector    GENERATED ALWAYS AS (pgrecall.search_vector(content)) STORED,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT embeddings_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT embeddings_dimensions_check CHECK (vector_dims(embedding) = dimensions),
    CONSTRAINT embeddings_owner_check CHECK (memory_id IS NULL OR (document_id IS NULL AND analysis_id IS NULL)),
    CONSTRAINT embeddings_document_fkey FOREIGN KEY (tenant_id, document_id)
        REFERENCES pgrecall.documents (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT embeddings_analysis_fkey FOREIGN KEY (tenant_id, analysis_id)
        REFERENCES pgrecall.analyses (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT embeddings_memory_fkey FOREIGN KEY (tenant_id, memory_id)
        REFERENCES pgrecall.memories (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT embeddings_model_fkey FOREIGN KEY (tenant_id, model, dimensions)
        REFERENCES pgrecall.embedding_models (tenant_id, name, dimensions)
);

COMMENT ON TABLE pgrecall.embeddings IS
    'Chunks with their vectors: of a document, of an analysis (document_id may be set too), '
    'of a memory, or free-standing. Bulk-loaded by binary COPY; run ANALYZE pgrecall.embeddings '
    'after a large load so the planner knows the new size.';
COMMENT ON COLUMN pgrecall.embeddings.chunk_index IS 'Position of the chunk in its owner (0-based).';
COMMENT ON COLUMN pgrecall.embeddings.content IS 'The chunk text that was embedded.';
COMMENT ON COLUMN pgrecall.embeddings.embedding IS
    'The vector (any dimension); cast to vector(dimensions) by the searches so the HNSW index of that dimension applies.';
COMMENT ON COLUMN pgrecall.embeddings.dimensions IS 'vector_dims(embedding); selects the partial HNSW index.';
COMMENT ON COLUMN pgrecall.embeddings.source IS 'Where the chunk is in its source: page, section, offsets, URL (JSON object; containment filter).';
COMMENT ON COLUMN pgrecall.embeddings.search_vector IS 'Full-text lexemes of content (generated); index embeddings_search_idx.';
COMMENT ON CONSTRAINT embeddings_owner_check ON pgrecall.embeddings IS
    'A chunk of a memory belongs to no document or analysis.';

CREATE INDEX embeddings_document_idx
    ON pgrecall.embeddings (tenant_id, document_id, chunk_index) WHERE document_id IS NOT NULL;
COMMENT ON INDEX pgrecall.embeddings_document_idx IS 'Chunks of a document in order; cascade on document delete.';

CREATE INDEX embeddings_analysis_idx ON pgrecall.embeddings (tenant_id, analysis_id) WHERE analysis_id IS NOT NULL;
COMMENT ON INDEX pgrecall.embeddings_analysis_idx IS 'Cascade on analysis delete.';

CREATE INDEX embeddings_memory_idx ON pgrecall.embeddings (tenant_id, memory_id) WHERE memory_id IS NOT NULL;
COMMENT ON INDEX pgrecall.embeddings_memory_idx IS 'Cascade on memory delete.';

CREATE INDEX embeddings_model_idx ON pgrecall.embeddings (tenant_id, model, dimensions);
COMMENT ON INDEX pgrecall.embeddings_model_idx IS
    'Exact search for dimensions without an HNSW index (and small tenants); the model foreign key.';

CREATE INDEX embeddings_search_idx ON pgrecall.embeddings USING gin (search_vector);
COMMENT ON INDEX pgrecall.embeddings_search_idx IS 'search_chunks / hybrid search: keyword matches (@@).';

CREATE INDEX embeddings_hnsw_384_idx ON pgrecall.embeddings
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dimensions = 384;
COMMENT ON INDEX pgrecall.embeddings_hnsw_384_idx IS 'Vector search, 384-dimensional models (cosine).';
CREATE INDEX embeddings_hnsw_768_idx ON pgrecall.embeddings
    USING hnsw ((embedding::vector(768)) vector_cosine_ops) WHERE dimensions = 768;
COMMENT ON INDEX pgrecall.embeddings_hnsw_768_idx IS 'Vector search, 768-dimensional models (cosine).';
CREATE INDEX embeddings_hnsw_1024_idx ON pgrecall.embeddings
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE dimensions = 1024;
COMMENT ON INDEX pgrecall.embeddings_hnsw_1024_idx IS 'Vector search, 1024-dimensional models (cosine).';
CREATE INDEX embeddings_hnsw_1536_idx ON pgrecall.embeddings
    USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE dimensions = 1536;
COMMENT ON INDEX pgrecall.embeddings_hnsw_1536_idx IS 'Vector search, 1536-dimensional models (cosine).';

-- Row level security ------------------------------------------------------------------

ALTER TABLE pgrecall.embedding_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.embedding_models FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.embedding_models
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.documents
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.analyses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.analyses
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.memories ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.memories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.memories
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

ALTER TABLE pgrecall.embeddings ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrecall.embeddings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pgrecall.embeddings
    USING (tenant_id = pgrecall.current_tenant())
    WITH CHECK (tenant_id = pgrecall.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE
    ON pgrecall.embedding_models, pgrecall.documents, pgrecall.memories, pgrecall.embeddings
    TO pgrecall_app;
GRANT SELECT, INSERT, DELETE ON pgrecall.analyses TO pgrecall_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgrecall TO pgrecall_app;
