/**
 * What the endpoint keeps of each submitted statement, and how DescribeStatement / ListStatements
 * show it (aws-facts §5.1: statuses, sub-statement ids `<id>:N`, Duration in ns, ResultRows -1).
 */
import type { Outcome } from "./backends.js";
import type { ResultMeter } from "./results.js";
import { seconds } from "./protocol.js";

export type Status = "SUBMITTED" | "PICKED" | "STARTED" | "FINISHED" | "FAILED" | "ABORTED";

export interface SubStatement {
  readonly sql: string;
  status: Status;
  error: string | null;
  outcome: Outcome | null;
  /** Result size as the Data API counts it; 0 without a result. */
  resultBytes: number;
  updatedAt: number;
}

export interface Statement {
  readonly id: string;
  readonly isBatch: boolean;
  readonly subs: SubStatement[];
  readonly connection: Readonly<Record<string, string>>;
  /** Database user the SQL runs as; null: the backend's own (super)user. */
  readonly user: string | null;
  readonly statementName: string | null;
  /** A page of a keyset read (a single SELECT ending in LIMIT n): the bench counts its calls apart. */
  readonly keysetPage: boolean;
  readonly createdAt: number;
  status: Status;
  error: string | null;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Times the SQL was actually sent to PostgreSQL (must stay <= 1). */
  runs: number;
  cancelRequested: boolean;
  wake: (() => void) | null;
}

/** What a test can see of a statement. */
export interface StatementView {
  readonly id: string;
  readonly isBatch: boolean;
  readonly sqls: readonly string[];
  readonly status: Status;
  readonly error: string | null;
  readonly runs: number;
  /** Database, ClusterIdentifier / WorkgroupName, DbUser, SecretArn as received. */
  readonly connection: Readonly<Record<string, string>>;
}

export function viewOf(s: Statement): StatementView {
  return { id: s.id, isBatch: s.isBatch, sqls: s.subs.map((sub) => sub.sql), status: s.status, error: s.error, runs: s.runs, connection: s.connection };
}

export const isTerminal = (status: Status): boolean => status === "FINISHED" || status === "FAILED" || status === "ABORTED";

export function setStatus(statement: Statement, status: Status): void {
  statement.status = status;
  statement.updatedAt = Date.now();
  if (status === "PICKED" || status === "STARTED") {
    for (const sub of statement.subs) if (sub.status === "SUBMITTED") sub.updatedAt = statement.updatedAt;
  }
}

export function markSub(sub: SubStatement, status: Status, error: string | null): void {
  sub.status = status;
  sub.error = error;
  sub.updatedAt = Date.now();
}

export function describe(statement: Statement, meter: ResultMeter): Record<string, unknown> {
  const common = {
    Id: statement.id,
    Status: statement.status,
    CreatedAt: seconds(statement.createdAt),
    UpdatedAt: seconds(statement.updatedAt),
    Duration: durationNs(statement),
    RedshiftPid: 1073741824,
    ...(statement.error === null ? {} : { Error: statement.error }),
    ...statement.connection,
  };
  if (!statement.isBatch) {
    const { Id: _id, ...sub } = describeSub(statement, statement.subs[0]!, 0, meter);
    return { ...common, ...sub };
  }
  return {
    ...common,
    HasResultSet: statement.subs.some((sub) => sub.outcome?.result != null),
    SubStatements: statement.subs.map((sub, index) => describeSub(statement, sub, index + 1, meter)),
  };
}

export function describeSub(statement: Statement, sub: SubStatement, position: number, meter: ResultMeter): Record<string, unknown> {
  const result = sub.outcome?.result ?? null;
  return {
    Id: position === 0 ? statement.id : `${statement.id}:${position}`,
    Status: sub.status,
    QueryString: sub.sql,
    CreatedAt: seconds(statement.createdAt),
    UpdatedAt: seconds(sub.updatedAt),
    Duration: durationNs(statement),
    HasResultSet: result !== null,
    ResultRows: result === null ? (sub.outcome?.affected ?? -1) : result.rows.length,
    ResultSize: result === null ? 0 : meter.sizeOf(sub),
    ...(sub.error === null ? {} : { Error: sub.error }),
  };
}

export function listed(s: Statement): Record<string, unknown> {
  return {
    Id: s.id,
    Status: s.status,
    IsBatchStatement: s.isBatch,
    CreatedAt: seconds(s.createdAt),
    UpdatedAt: seconds(s.updatedAt),
    ...(s.statementName === null ? {} : { StatementName: s.statementName }),
    ...(s.isBatch ? { QueryStrings: s.subs.map((sub) => sub.sql) } : { QueryString: s.subs[0]!.sql }),
    ...(s.connection.SecretArn === undefined ? {} : { SecretArn: s.connection.SecretArn }),
  };
}

function durationNs(statement: Statement): number {
  if (statement.startedAt === null || statement.finishedAt === null) return -1;
  return (statement.finishedAt - statement.startedAt) * 1_000_000;
}
