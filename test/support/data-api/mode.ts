/** How the endpoint treats SQL: PostgreSQL as written, or Redshift emulated on top (redshift/mode.ts). */
import type { Backend, Outcome, Session } from "./backends.js";

export interface StatementContext {
  /** Inside BatchExecuteStatement, which is one transaction block (aws-facts §5.1). */
  readonly inTransaction: boolean;
}

export interface SqlMode {
  readonly name: "postgres" | "redshift";
  /** Once, before the first statement (catalog shims). */
  install(backend: Backend): Promise<void>;
  /** One statement as the client sent it. */
  run(session: Session, sql: string, context: StatementContext): Promise<Outcome>;
}

export const postgresMode: SqlMode = {
  name: "postgres",
  install: async () => undefined,
  run: (session, sql) => session.query(sql),
};
