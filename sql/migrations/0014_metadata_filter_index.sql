-- 0014 metadata_filter_index: GIN (jsonb_path_ops) on embeddings.source for metadata filters.
-- transactional: false
--
-- The filter language (pgrecall.query.filters) compiles equality, $in and $contains on a
-- chunk's source (its metadata) to containment (source @> '{"key": value}'), which this
-- index serves; documents.metadata has had the same index since 0003
-- (documents_metadata_idx). embeddings is a table of an earlier migration: the index is
-- built CONCURRENTLY (writes go on), which cannot run inside a transaction.
-- Range filters ($gt, $between ...) on a hot key are served by an expression index the
-- application adds for that key (README, "Metadata filters").

CREATE INDEX CONCURRENTLY IF NOT EXISTS embeddings_source_idx
    ON pgrecall.embeddings USING gin (source jsonb_path_ops);

COMMENT ON INDEX pgrecall.embeddings_source_idx IS
    'Metadata filters on chunks: containment (@>) of source, from s.search filter= ($eq, $in, $contains).';
