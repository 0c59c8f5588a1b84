/**
 * The six operations (aws-facts §5.1): ExecuteStatement, BatchExecuteStatement, DescribeStatement,
 * GetStatementResult, CancelStatement, ListStatements, with the 40-statement / 100 KB limits (§5.3)
 * and ClientToken idempotency for 8 hours.
 */
import { randomUUID } from "node:crypto";
import { decodeToken, notFound, offsetToken, seconds, validation } from "./protocol.js";
import { execute, type RunnerParts } from "./runner.js";
import { describe, describeSub, isTerminal, listed, type Statement, type SubStatement } from "./statements.js";

const MAX_BATCH_STATEMENTS = 40;
const MAX_STATEMENT_BYTES = 100 * 1024;
const CLIENT_TOKEN_TTL_MS = 8 * 3600_000;
const KEYSET_PAGE = /^\s*SELECT\b[\s\S]*\bORDER\s+BY\b[^()']*\bLIMIT\s+\d+\s*;?\s*$/i;

/** Who a request runs as: the connection fields to echo, and the database user (null: the backend's). */
export interface Connection {
  readonly fields: Readonly<Record<string, string>>;
  readonly user: string | null;
}

export interface Submitted {
  statements: number;
  batches: number;
  sqlBytes: number;
  /** Statements and SQL bytes inside BatchExecuteStatement requests. */
  batchStatements: number;
  batchSqlBytes: number;
  /** Submit, describe and result calls for keyset pages (statements.ts: keysetPage). */
  pagedReadCalls: number;
  /** The describe calls among them. */
  pagedReadDescribeCalls: number;
}

export interface EndpointState {
  readonly parts: RunnerParts;
  readonly statements: Map<string, Statement>;
  readonly tokens: Map<string, { fingerprint: string; response: unknown; at: number }>;
  readonly pending: Set<Promise<void>>;
  readonly submitted: Submitted;
  /** Validates the credential fields (ValidationException when undocumented). */
  readonly connect: (input: Record<string, unknown>) => Connection;
  /** Total SQL bytes of one batch; null: only the per-statement limit. */
  readonly maxBatchBytes: number | null;
}

export type Operation = (input: Record<string, unknown>) => unknown;

export function operations(state: EndpointState): Record<string, Operation> {
  return { ...submitOperations(state), ...readOperations(state) };
}

function submitOperations(state: EndpointState): Record<string, Operation> {
  return {
    ExecuteStatement(input) {
      const sql = input.Sql;
      if (typeof sql !== "string" || sql.length === 0) throw validation("Sql is required");
      checkSize(sql);
      return submit(state, "ExecuteStatement", input, [sql]);
    },
    BatchExecuteStatement(input) {
      const sqls = input.Sqls;
      if (!Array.isArray(sqls) || sqls.length === 0 || !sqls.every((s) => typeof s === "string" && s.length > 0)) {
        throw validation("Sqls must hold 1 to 40 SQL statements");
      }
      if (sqls.length > MAX_BATCH_STATEMENTS) {
        throw validation(`1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_STATEMENTS}`);
      }
      (sqls as string[]).forEach(checkSize);
      const total = (sqls as string[]).reduce((sum, sql) => sum + Buffer.byteLength(sql, "utf8"), 0);
      if (state.maxBatchBytes !== null && total > state.maxBatchBytes) throw validation("Cannot process query string larger than 100kB");
      return submit(state, "BatchExecuteStatement", input, sqls as string[]);
    },
  };
}

function readOperations(state: EndpointState): Record<string, Operation> {
  return {
    DescribeStatement(input) {
      const { statement, sub, position } = lookup(state, input.Id);
      if (statement.keysetPage) {
        state.submitted.pagedReadCalls++;
        state.submitted.pagedReadDescribeCalls++;
      }
      if (sub === null) return describe(statement, state.parts.meter);
      return { ...describeSub(statement, sub, position, state.parts.meter), ...statement.connection };
    },
    GetStatementResult(input) {
      const { statement, sub } = lookup(state, input.Id);
      if (statement.keysetPage) state.submitted.pagedReadCalls++;
      if (sub === null && statement.isBatch) {
        throw validation("Use the Id of a sub-statement (<id>:N) to fetch results of a batch");
      }
      const target = sub ?? statement.subs[0]!;
      const result = target.outcome?.result;
      if (target.status !== "FINISHED" || result === undefined || result === null) {
        throw notFound("Query does not have result. Please check query status with DescribeStatement.", String(input.Id));
      }
      return state.parts.meter.page(target, input.NextToken === undefined ? 0 : decodeToken(input.NextToken));
    },
    CancelStatement(input) {
      const { statement, sub } = lookup(state, input.Id);
      if (sub !== null) throw validation("Cancel the batch by its own Id, not a sub-statement's");
      if (isTerminal(statement.status)) {
        throw validation(`Could not cancel a query that is already in ${statement.status} state with ID: ${statement.id}`);
      }
      const before = statement.runs === 0;
      statement.cancelRequested = true;
      statement.wake?.();
      // A single statement already sent to PostgreSQL cannot be stopped here; a batch stops between statements.
      return { Status: before || statement.isBatch };
    },
    ListStatements(input) {
      const wanted = typeof input.Status === "string" && input.Status !== "ALL" ? input.Status : null;
      const prefix = typeof input.StatementName === "string" ? input.StatementName : null;
      const max = typeof input.MaxResults === "number" && input.MaxResults > 0 ? input.MaxResults : 100;
      const offset = input.NextToken === undefined ? 0 : decodeToken(input.NextToken);
      const all = [...state.statements.values()]
        .filter((s) => (wanted === null || s.status === wanted) && (prefix === null || (s.statementName ?? "").startsWith(prefix)))
        .sort((a, b) => b.createdAt - a.createdAt);
      return {
        Statements: all.slice(offset, offset + max).map(listed),
        ...(offset + max < all.length ? { NextToken: offsetToken(offset + max) } : {}),
      };
    },
  };
}

function submit(state: EndpointState, operation: string, input: Record<string, unknown>, sqls: string[]): unknown {
  const connection = state.connect(input);
  const token = typeof input.ClientToken === "string" ? input.ClientToken : null;
  const { ClientToken: _token, ...request } = input;
  const fingerprint = JSON.stringify([operation, request]);
  if (token !== null) {
    const seen = state.tokens.get(token);
    if (seen !== undefined && Date.now() - seen.at < CLIENT_TOKEN_TTL_MS) {
      if (seen.fingerprint !== fingerprint) throw validation(`ClientToken ${token} was already used with a different request`);
      return seen.response;
    }
  }
  const statement = newStatement(operation, input, sqls, connection);
  state.statements.set(statement.id, statement);
  const bytes = sqls.reduce((sum, sql) => sum + Buffer.byteLength(sql, "utf8"), 0);
  state.submitted.statements += sqls.length;
  state.submitted.sqlBytes += bytes;
  if (statement.keysetPage) state.submitted.pagedReadCalls++;
  if (statement.isBatch) {
    state.submitted.batches++;
    state.submitted.batchStatements += sqls.length;
    state.submitted.batchSqlBytes += bytes;
  }
  const response = { Id: statement.id, CreatedAt: seconds(statement.createdAt), DbGroups: [], ...connection.fields };
  if (token !== null) state.tokens.set(token, { fingerprint, response, at: statement.createdAt });
  const run = execute(state.parts, statement).finally(() => state.pending.delete(run));
  state.pending.add(run);
  return response;
}

function newStatement(operation: string, input: Record<string, unknown>, sqls: string[], connection: Connection): Statement {
  const now = Date.now();
  return {
    id: randomUUID(),
    isBatch: operation === "BatchExecuteStatement",
    subs: sqls.map((sql): SubStatement => ({ sql, status: "SUBMITTED", error: null, outcome: null, resultBytes: 0, updatedAt: now })),
    connection: connection.fields,
    user: connection.user,
    statementName: typeof input.StatementName === "string" ? input.StatementName : null,
    keysetPage: operation === "ExecuteStatement" && KEYSET_PAGE.test(sqls[0]!),
    createdAt: now,
    status: "SUBMITTED",
    error: null,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    runs: 0,
    cancelRequested: false,
    wake: null,
  };
}

function lookup(state: EndpointState, id: unknown): { statement: Statement; sub: SubStatement | null; position: number } {
  if (typeof id !== "string" || id.length === 0) throw validation("Id is required");
  const [base, suffix] = id.split(":") as [string, string | undefined];
  const statement = state.statements.get(base);
  const position = suffix === undefined ? 0 : Number(suffix);
  const sub = suffix === undefined ? null : statement?.isBatch === true ? statement.subs[position - 1] : undefined;
  if (statement === undefined || sub === undefined) throw notFound(`Query does not exist: ${id}`, id);
  return { statement, sub, position };
}

function checkSize(sql: string): void {
  if (Buffer.byteLength(sql, "utf8") > MAX_STATEMENT_BYTES) throw validation("Cannot process query string larger than 100kB");
}

/** Connection fields echoed back in responses. */
export function connectionFields(input: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const key of ["Database", "ClusterIdentifier", "WorkgroupName", "DbUser", "SecretArn"]) {
    if (typeof input[key] === "string") fields[key] = input[key];
  }
  return fields;
}

/** postgres mode: a cluster or a workgroup, and a database, as before the Redshift mode. */
export function connectLoosely(input: Record<string, unknown>): Connection {
  const hasCluster = typeof input.ClusterIdentifier === "string";
  const hasWorkgroup = typeof input.WorkgroupName === "string";
  if (hasCluster === hasWorkgroup) throw validation("Either ClusterIdentifier or WorkgroupName must be provided");
  if (typeof input.Database !== "string") throw validation("Database is required");
  return { fields: connectionFields(input), user: null };
}
