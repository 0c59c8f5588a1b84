-- State schema of lf-redshift-sync (DESIGN §4.3). `${schema}` is replaced by the quoted state schema.
-- SQL that Redshift and PostgreSQL both accept: no SERIAL, no ON CONFLICT, no indexes.

-- Every grant this service applied: one row per grantee x object x privilege; a column-subset
-- grant is one row per column. grant_key is the canonical JSON key the service deletes by.
CREATE TABLE IF NOT EXISTS ${schema}.grants (
  grant_key VARCHAR(4096) NOT NULL,
  grantee_kind VARCHAR(8) NOT NULL,
  grantee VARCHAR(512) NOT NULL,
  schema_name VARCHAR(512) NOT NULL,
  table_name VARCHAR(512),
  column_name VARCHAR(512),
  privilege VARCHAR(16) NOT NULL,
  because VARCHAR(65535),
  run_id VARCHAR(64) NOT NULL,
  granted_at TIMESTAMP NOT NULL
);

-- Tag assignments (not inherited values) as last seen by a run that applied.
CREATE TABLE IF NOT EXISTS ${schema}.tag_assignments (
  resource_kind VARCHAR(8) NOT NULL,
  database_name VARCHAR(1024) NOT NULL,
  table_name VARCHAR(1024),
  column_name VARCHAR(1024),
  tag_key VARCHAR(512) NOT NULL,
  tag_value VARCHAR(1024) NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  seen_at TIMESTAMP NOT NULL
);

-- One row per run that took the lease (apply / reconcile).
CREATE TABLE IF NOT EXISTS ${schema}.runs (
  run_id VARCHAR(64) NOT NULL,
  command VARCHAR(32) NOT NULL,
  status VARCHAR(16) NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  fencing_token BIGINT,
  catalog_hash VARCHAR(64),
  grants BIGINT,
  revokes BIGINT,
  pending BIGINT,
  batches_applied BIGINT,
  batches_total BIGINT,
  message VARCHAR(4096)
);
