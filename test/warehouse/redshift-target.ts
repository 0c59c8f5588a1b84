import { PGlite } from "@electric-sql/pglite";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { expect } from "vitest";
import { dataApiTargetSchema } from "../../src/config/schema.js";
import { createDataApiExecutor } from "../../src/warehouse/data-api-executor.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { type LocalDataApi, type RedshiftOptions, startLocalDataApi } from "../support/data-api-server.js";

/** The secret that signs in as the non-superuser `sync` (a user the test creates). */
export const SYNC_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sync-AbCdEf";

export interface RedshiftTarget {
  readonly api: LocalDataApi;
  /** The production executor, redshift dialect, signed in as the IAM identity (a superuser). */
  readonly executor: SqlExecutor;
  /** The same, signed in as `sync` through SYNC_SECRET. */
  executorAs(secretArn: string): SqlExecutor;
  /** Runs each statement as the superuser; fails the test on the first error. */
  setup(statements: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The local Data API endpoint in Redshift mode on an in-memory PGlite. Redshift's
 * PG_GET_LATE_BINDING_VIEW_COLS() (https://docs.aws.amazon.com/redshift/latest/dg/PG_GET_LATE_BINDING_VIEW_COLS.html)
 * and SVV_SYSTEM_PRIVILEGES (https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_SYSTEM_PRIVILEGES.html: a user
 * that is neither a superuser nor holds ACCESS SYSTEM TABLE sees only its own identities' rows) are not in the
 * endpoint's shim yet: they are added here, over the shim's records of late-binding views and system access.
 */
export async function openRedshift(options: RedshiftOptions = {}): Promise<RedshiftTarget> {
  const pglite = await PGlite.create();
  const api = await startLocalDataApi({ mode: "redshift", pglite, redshift: { secrets: { [SYNC_SECRET]: "sync" }, ...options } });
  // In pg_catalog, as in Redshift: found unqualified, and listed by no inventory query.
  await pglite.exec(`BEGIN; SET LOCAL allow_system_table_mods = on;
    CREATE OR REPLACE FUNCTION pg_catalog.pg_get_late_binding_view_cols() RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)::varchar, a.attnum::int
    FROM pg_redshift.late_binding_views l JOIN pg_class c ON c.oid = l.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped $$;
    CREATE OR REPLACE VIEW pg_catalog.svv_system_privileges AS
      SELECT 'ACCESS SYSTEM TABLE'::varchar AS system_privilege, r.oid::int AS identity_id, r.rolname::varchar AS identity_name,
        (CASE WHEN r.rolcanlogin THEN 'user' ELSE 'role' END)::varchar AS identity_type
      FROM pg_redshift.system_access s JOIN pg_roles r ON r.oid = s.roleid
      WHERE (SELECT pg_redshift.unrestricted()) OR pg_has_role(current_user, r.oid, 'MEMBER');
    GRANT SELECT ON pg_catalog.svv_system_privileges TO PUBLIC; COMMIT;`);
  const client = new RedshiftDataClient({ endpoint: api.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const open = (extra: Record<string, string>): SqlExecutor =>
    createDataApiExecutor(dataApiTargetSchema.parse({ kind: "data-api", database: "dev", workgroupName: "wg", endpoint: api.endpoint, pollIntervalMs: 2, ...extra }), { client });
  const executor = open({});
  return {
    api,
    executor,
    executorAs: (secretArn) => open({ secretArn }),
    async setup(statements) {
      for (const sql of statements) await expect(executor.query(sql), sql).resolves.toBeDefined();
    },
    async close() {
      await executor.close();
      client.destroy();
      await api.stop();
      await pglite.close();
    },
  };
}
