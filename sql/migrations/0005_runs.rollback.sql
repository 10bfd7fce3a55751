DROP FUNCTION IF EXISTS pgrecall.tenant_row_counts(text);
DROP TABLE IF EXISTS pgrecall.domain_sets;
DROP TABLE IF EXISTS pgrecall.runs;
DROP FUNCTION IF EXISTS pgrecall.runs_before_insert();
DROP FUNCTION IF EXISTS pgrecall.runs_before_update();
