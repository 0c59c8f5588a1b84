-- Grants this service applied, one row per slot (DESIGN §4.3): grantee x object x privilege, with
-- the column subset as one list instead of one row per column (0001's `grants`, which a large
-- catalog filled with a million rows). SQL that Redshift and PostgreSQL both accept.
--
-- slot_key: the canonical JSON [grantee kind, grantee, schema, table, privilege] the service deletes by.
-- columns: NULL for the whole table (or the schema); otherwise a JSON array of sorted column names.
-- A slot holds at most one whole-table row; a column list too long for one row (a table may have
-- 1600 columns of 127 bytes; a statement is at most 100 KB, a Data API result row 64 KB) is split
-- over several rows of the same slot, which the reader merges.
-- Rows 0001 left in `grants` are still read and merged with these; writing a slot deletes them.
CREATE TABLE IF NOT EXISTS ${schema}.grant_slots (
  slot_key VARCHAR(4096) NOT NULL,
  grantee_kind VARCHAR(8) NOT NULL,
  grantee VARCHAR(512) NOT NULL,
  schema_name VARCHAR(512) NOT NULL,
  table_name VARCHAR(512),
  privilege VARCHAR(16) NOT NULL,
  columns VARCHAR(65535),
  because VARCHAR(65535),
  run_id VARCHAR(64) NOT NULL,
  granted_at TIMESTAMP NOT NULL
);
