import { quoteIdent } from "../../core/sql.js";
import { SyncError } from "../../errors.js";
import type { SqlExecutor } from "../executor.js";
import { integerLiteral } from "./sql.js";

/**
 * Fencing (DESIGN §4.3, issue 13 item 10): the lease's token is checked by the target itself, inside
 * each batch's transaction. The batch's first statement raises `lease_fence` to its token, or, when a
 * newer holder has already written a higher one, sets it to NULL: the NOT NULL column refuses that,
 * and the batch rolls back. The row lock (PostgreSQL) or serializable isolation (Redshift) orders
 * two holders' batches, so a stale holder cannot slip in between.
 */
export function fenceStatement(stateSchema: string, fencingToken: number): string {
  const token = integerLiteral(fencingToken);
  return `UPDATE ${quoteIdent(stateSchema)}.lease_fence SET fencing_token = CASE WHEN fencing_token <= ${token} THEN ${token} ELSE NULL END`;
}

/** The newest token that applied a batch; null when the fence row is missing. */
export async function currentFence(executor: SqlExecutor, stateSchema: string): Promise<number | null> {
  const rows = await executor.query(`SELECT max(fencing_token) AS token FROM ${quoteIdent(stateSchema)}.lease_fence`);
  const token = rows[0]?.token;
  return token === null || token === undefined ? null : Number(token);
}

/**
 * A batch that failed: LEASE_LOST when the fence shows a newer holder (the batch was fenced out),
 * else null (some other failure).
 */
export async function fencedOut(executor: SqlExecutor, stateSchema: string, fencingToken: number): Promise<SyncError | null> {
  const newest = await currentFence(executor, stateSchema).catch(() => null);
  if (newest === null || newest <= fencingToken) return null;
  return new SyncError(
    "LEASE_LOST",
    `a newer lease holder (fencing token ${newest}) has applied to this target since this run took its lease (token ${fencingToken}): ` +
      `the batch was refused by the target. If the lock's tokens were reset (a new DynamoDB table), reset the fence: UPDATE ${quoteIdent(stateSchema)}.lease_fence SET fencing_token = 0`,
  );
}
