-- State schema of lf-redshift-sync (DESIGN §4.3). `${schema}` is replaced by the quoted state schema.
-- SQL that Redshift and PostgreSQL both accept: no SERIAL, no ON CONFLICT, no indexes.
-- The service refuses to run unless it owns this schema and every table in it, nobody else may
-- write to them, and they have no triggers or rules (src/warehouse/state/trust.ts).

-- Every grant this service applied. A slot is grantee x schema/table x privilege, in one form (the
-- whole table, or a column list); a row records a group of slots that share grantee, schema,
-- privilege, form and policies, and lists their tables, so a grant on 1000 tables costs one row of
-- names rather than 1000 rows (src/warehouse/state/grant-slots-write.ts; the reader expands rows
-- back into slots, grant-slots-read.ts).
-- columns: NULL for the whole table (or the schema); otherwise a JSON array of sorted column names.
-- tables: NULL for the schema itself; otherwise the table names, each a JSON string with `"` written
--   as \u0022, concatenated ('"orders""items"'): a name occurs as '"name"' only where it is listed, so
--   POSITION finds it, REPLACE takes it out of its row and LENGTH counts the names
--   (src/warehouse/state/table-lists.ts).
-- policies: JSON array of the ids of the policies behind the grants (src/core/policy-ref.ts).
-- A change to a slot cuts its name out of the rows that list it (UPDATE ... REPLACE, in the batch's
-- transaction) and deletes the rows left with no table (src/warehouse/state/grant-slots-removal.ts).
-- Lists longer than 4 KB are split, so a row stays under about 14 KB (a result row is at most 64 KB,
-- a statement 100 KB, and a page of the paged read holds 5000 rows; a table may have 1600 columns
-- of 127 bytes): more tables go to more rows; a column list is cut into parts, each a row listing
-- the same tables, numbered by part (0 first; only part 0 counts slots).
-- row_key: a hash of the row as inserted (an UPDATE keeps it), the keyset of the paged read. run_ref: the first 8
-- characters of the id of the run that wrote the row (a UUID's are enough to find it in `runs`).
CREATE TABLE IF NOT EXISTS ${schema}.grant_slots (
  grantee_kind VARCHAR(8) NOT NULL,
  grantee VARCHAR(512) NOT NULL,
  schema_name VARCHAR(512) NOT NULL,
  privilege VARCHAR(16) NOT NULL,
  columns VARCHAR(65535),
  policies VARCHAR(65535),
  tables VARCHAR(65535),
  part SMALLINT NOT NULL,
  row_key VARCHAR(12) NOT NULL,
  run_ref VARCHAR(8) NOT NULL
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

-- One row per run that started (apply / reconcile / a webhook or scheduled run), written first;
-- error_code is the code of a failed or refused run (src/errors.ts).
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
  error_code VARCHAR(32),
  message VARCHAR(4096)
);

-- The fencing token of the newest lease holder that applied a batch: every batch raises it to its
-- own token in its transaction, and a batch of a stale holder (a lower token) sets it to NULL,
-- which NOT NULL refuses, so the whole batch rolls back (src/warehouse/state/fence.ts).
CREATE TABLE IF NOT EXISTS ${schema}.lease_fence (
  fencing_token BIGINT NOT NULL
);
INSERT INTO ${schema}.lease_fence (fencing_token) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ${schema}.lease_fence);
