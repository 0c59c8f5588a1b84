/** How the endpoint treats SQL: PostgreSQL as written, or Redshift emulated on top (redshift/mode.ts). */
import type { Backend, Outcome, Session } from "./backends.js";

export interface StatementContext {
  /** Inside BatchExecuteStatement, which is one transaction block (aws-facts §5.1). */
  readonly inTransaction: boolean;
  /** The submission the statement belongs to (one statement, or a whole batch). */
  readonly submission: Submission;
}

/** Every statement of one ExecuteStatement or BatchExecuteStatement, run in order, and what a mode keeps while they run. */
export interface Submission {
  readonly sqls: readonly string[];
  /** Per-submission state of a mode (the Redshift mode's rule facts), dropped when the submission ends. */
  readonly memo: Map<string, unknown>;
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
