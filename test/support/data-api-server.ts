/**
 * A local Redshift Data API endpoint: the awsJson1_1 wire protocol (`POST /`,
 * `X-Amz-Target: RedshiftData.<Operation>`) in front of PostgreSQL (in-process PGlite, or a server
 * by URL). The real @aws-sdk/client-redshift-data client talks to it. It reproduces what the
 * production executor must cope with (aws-facts §5, traps 14-16): asynchronous statuses, errors in
 * `Error` / `SubStatements[]` rather than exceptions, batches in one transaction with sub-statement
 * ids `<id>:N`, result pages, ClientToken idempotency, the 40-statement / 100 KB limits, and
 * injected faults (failing statement, throttling, slow statements, lost connections).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

const MAX_BATCH_STATEMENTS = 40;
const MAX_STATEMENT_BYTES = 100 * 1024;
const PAGE_ROWS = 100;
const CLIENT_TOKEN_TTL_MS = 8 * 3600_000;

type Status = "SUBMITTED" | "PICKED" | "STARTED" | "FINISHED" | "FAILED" | "ABORTED";

/** Rows with the PostgreSQL type OID of each column; null for a statement without a result set. */
interface ResultSet {
  readonly columns: readonly { readonly name: string; readonly typeId: number }[];
  readonly rows: readonly (readonly unknown[])[];
}
interface Outcome {
  readonly result: ResultSet | null;
  readonly affected: number;
}

/** Runs SQL on the PostgreSQL behind the endpoint. */
interface Backend {
  run(sql: string): Promise<Outcome>;
  /** One transaction; `before(i)` may throw to fail statement i (0-based). Throws BatchFailure. */
  runBatch(sqls: readonly string[], before: (index: number) => void): Promise<Outcome[]>;
  close(): Promise<void>;
}

class BatchFailure extends Error {
  constructor(
    readonly index: number,
    readonly outcomes: readonly Outcome[],
    cause: unknown,
  ) {
    super(messageOf(cause), { cause });
  }
}

// ---------------------------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------------------------

interface Rejection {
  remaining: number;
  readonly type: string;
  readonly status: number;
  readonly operations: readonly string[] | null;
}

/** Faults for the next requests or statements; each one is used up as it fires. */
export class FaultController {
  private rejections: Rejection[] = [];
  private batchFailure: { position: number; message: string } | null = null;
  private slow: { ms: number; remaining: number } | null = null;
  private drops: { remaining: number; when: "before" | "after" } | null = null;

  /** The next batch fails at statement `position` (1-based), as if PostgreSQL had raised `message`. */
  failNextBatchAt(position: number, message = "injected failure"): void {
    this.batchFailure = { position, message };
  }

  /** The next `calls` requests (of the given operations, default all) get HTTP 400 ThrottlingException. */
  throttle(calls: number, operations?: readonly string[]): void {
    this.reject(calls, "ThrottlingException", 400, operations);
  }

  /** The next `calls` submits get the modeled 400 ActiveStatementsExceededException. */
  exceedActiveStatements(calls: number): void {
    this.reject(calls, "ActiveStatementsExceededException", 400, ["ExecuteStatement", "BatchExecuteStatement"]);
  }

  reject(calls: number, type: string, status: number, operations?: readonly string[]): void {
    this.rejections.push({ remaining: calls, type, status, operations: operations ?? null });
  }

  /** The next `count` statements wait `ms` in STARTED before they run (CancelStatement still works). */
  slowStatements(ms: number, count = 1): void {
    this.slow = { ms, remaining: count };
  }

  /**
   * The next `count` requests lose their connection: `before` the endpoint handles them, or
   * `after` (the operation took effect, the answer is lost: the case ClientToken exists for).
   */
  dropConnections(count = 1, when: "before" | "after" = "before"): void {
    this.drops = { remaining: count, when };
  }

  reset(): void {
    this.rejections = [];
    this.batchFailure = null;
    this.slow = null;
    this.drops = null;
  }

  /** @internal */
  takeRejection(operation: string): Rejection | null {
    const rejection = this.rejections.find(
      (r) => r.remaining > 0 && (r.operations === null || r.operations.includes(operation)),
    );
    if (rejection === undefined) return null;
    rejection.remaining--;
    return rejection;
  }

  /** @internal */
  takeBatchFailure(): { position: number; message: string } | null {
    const failure = this.batchFailure;
    this.batchFailure = null;
    return failure;
  }

  /** @internal */
  takeDelay(): number {
    if (this.slow === null || this.slow.remaining <= 0) return 0;
    this.slow.remaining--;
    return this.slow.ms;
  }

  /** @internal */
  takeDrop(): "before" | "after" | null {
    if (this.drops === null || this.drops.remaining <= 0) return null;
    this.drops.remaining--;
    return this.drops.when;
  }
}

// ---------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------

interface SubStatement {
  readonly sql: string;
  status: Status;
  error: string | null;
  outcome: Outcome | null;
  updatedAt: number;
}

interface Statement {
  readonly id: string;
  readonly isBatch: boolean;
  readonly subs: SubStatement[];
  readonly connection: Readonly<Record<string, string>>;
  readonly statementName: string | null;
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

export interface LocalDataApi {
  /** `http://127.0.0.1:<port>` for the SDK client's `endpoint`. */
  readonly endpoint: string;
  readonly faults: FaultController;
  /** Every statement received, in order of submission. */
  statements(): StatementView[];
  /** HTTP requests received per operation (incl. rejected ones). */
  calls(): Readonly<Record<string, number>>;
  /** Forgets statements, ClientTokens, call counts and faults (not the database), between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalDataApiOptions {
  /** PostgreSQL server to run the SQL on; default: a fresh in-memory PGlite. */
  readonly pgUrl?: string;
  /** An existing PGlite database to share with the test (not closed by stop()). */
  readonly pglite?: PGlite;
  readonly faults?: FaultController;
  readonly port?: number;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const validation = (message: string): ApiError => new ApiError("ValidationException", 400, message);

export async function startLocalDataApi(options: LocalDataApiOptions = {}): Promise<LocalDataApi> {
  const backend = await openBackend(options);
  const faults = options.faults ?? new FaultController();
  const statements = new Map<string, Statement>();
  const tokens = new Map<string, { fingerprint: string; response: unknown; at: number }>();
  const calls: Record<string, number> = {};
  const pending = new Set<Promise<void>>();

  function submit(operation: string, input: Record<string, unknown>, sqls: string[]): unknown {
    const token = typeof input.ClientToken === "string" ? input.ClientToken : null;
    const { ClientToken: _token, ...request } = input;
    const fingerprint = JSON.stringify([operation, request]);
    if (token !== null) {
      const seen = tokens.get(token);
      if (seen !== undefined && Date.now() - seen.at < CLIENT_TOKEN_TTL_MS) {
        if (seen.fingerprint !== fingerprint) {
          throw validation(`ClientToken ${token} was already used with a different request`);
        }
        return seen.response;
      }
    }
    const connection = connectionOf(input);
    const now = Date.now();
    const statement: Statement = {
      id: randomUUID(),
      isBatch: operation === "BatchExecuteStatement",
      subs: sqls.map((sql) => ({ sql, status: "SUBMITTED", error: null, outcome: null, updatedAt: now })),
      connection,
      statementName: typeof input.StatementName === "string" ? input.StatementName : null,
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
    statements.set(statement.id, statement);
    const response = { Id: statement.id, CreatedAt: seconds(now), DbGroups: [], ...connection };
    if (token !== null) tokens.set(token, { fingerprint, response, at: now });
    const run = execute(statement).finally(() => pending.delete(run));
    pending.add(run);
    return response;
  }

  async function execute(statement: Statement): Promise<void> {
    await tick();
    setStatus(statement, "PICKED");
    await tick();
    setStatus(statement, "STARTED");
    statement.startedAt = Date.now();
    const delay = faults.takeDelay();
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        statement.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      statement.wake = null;
    }
    if (statement.cancelRequested) return finishAborted(statement, 0);
    statement.runs++;
    if (statement.isBatch) await executeBatch(statement);
    else await executeSingle(statement);
  }

  async function executeSingle(statement: Statement): Promise<void> {
    const sub = statement.subs[0]!;
    try {
      sub.outcome = await backend.run(sub.sql);
      finish(statement, "FINISHED", null);
    } catch (error) {
      finish(statement, "FAILED", `ERROR: ${messageOf(error)}`);
    }
  }

  async function executeBatch(statement: Statement): Promise<void> {
    const failure = faults.takeBatchFailure();
    try {
      const outcomes = await backend.runBatch(
        statement.subs.map((sub) => sub.sql),
        (index) => {
          if (statement.cancelRequested) throw new Cancelled();
          markSub(statement.subs[index]!, "STARTED", null);
          if (failure !== null && index === failure.position - 1) throw new Error(failure.message);
        },
      );
      statement.subs.forEach((sub, index) => {
        sub.outcome = outcomes[index] ?? null;
        markSub(sub, "FINISHED", null);
      });
      finish(statement, "FINISHED", null);
    } catch (error) {
      const failed = error instanceof BatchFailure ? error : new BatchFailure(statement.subs.length - 1, [], error);
      if (failed.cause instanceof Cancelled) return finishAborted(statement, failed.index);
      // The whole transaction rolled back: the statements before the failing one ran, those after did not.
      const text = `ERROR: ${failed.message}`;
      statement.subs.forEach((sub, index) => {
        if (index < failed.index) markSub(sub, "FINISHED", null);
        else if (index === failed.index) markSub(sub, "FAILED", text);
        else markSub(sub, "ABORTED", null);
      });
      finish(statement, "FAILED", text);
    }
  }

  function finishAborted(statement: Statement, fromIndex: number): void {
    statement.subs.forEach((sub, index) => {
      if (index >= fromIndex) markSub(sub, "ABORTED", null);
    });
    finish(statement, "ABORTED", null);
  }

  function finish(statement: Statement, status: Status, error: string | null): void {
    if (!statement.isBatch) markSub(statement.subs[0]!, status, error);
    statement.error = error;
    statement.finishedAt = Date.now();
    setStatus(statement, status);
  }

  const handlers: Record<string, (input: Record<string, unknown>) => unknown> = {
    ExecuteStatement(input) {
      requireTarget(input);
      const sql = input.Sql;
      if (typeof sql !== "string" || sql.length === 0) throw validation("Sql is required");
      checkSize(sql);
      return submit("ExecuteStatement", input, [sql]);
    },
    BatchExecuteStatement(input) {
      requireTarget(input);
      const sqls = input.Sqls;
      if (!Array.isArray(sqls) || sqls.length === 0 || !sqls.every((s) => typeof s === "string" && s.length > 0)) {
        throw validation("Sqls must hold 1 to 40 SQL statements");
      }
      if (sqls.length > MAX_BATCH_STATEMENTS) {
        throw validation(`1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_STATEMENTS}`);
      }
      (sqls as string[]).forEach(checkSize);
      return submit("BatchExecuteStatement", input, sqls as string[]);
    },
    DescribeStatement(input) {
      const { statement, sub, position } = lookup(input.Id);
      if (sub === null) return describe(statement);
      return { ...describeSub(statement, sub, position), ...statement.connection };
    },
    GetStatementResult(input) {
      const { statement, sub } = lookup(input.Id);
      if (sub === null && statement.isBatch) {
        throw validation("Use the Id of a sub-statement (<id>:N) to fetch results of a batch");
      }
      const target = sub ?? statement.subs[0]!;
      const result = target.outcome?.result;
      if (target.status !== "FINISHED" || result === undefined || result === null) {
        throw new ApiError("ResourceNotFoundException", 404, "Query does not have result. Please check query status with DescribeStatement.", {
          ResourceId: String(input.Id),
        });
      }
      const offset = input.NextToken === undefined ? 0 : decodeToken(input.NextToken);
      const end = Math.min(offset + PAGE_ROWS, result.rows.length);
      return {
        Records: result.rows.slice(offset, end).map((row) => row.map((value, i) => encodeField(value, result.columns[i]!.typeId))),
        ColumnMetadata: result.columns.map((column) => ({ name: column.name, label: column.name, typeName: typeName(column.typeId) })),
        TotalNumRows: result.rows.length,
        ...(end < result.rows.length ? { NextToken: Buffer.from(`offset:${end}`).toString("base64") } : {}),
      };
    },
    CancelStatement(input) {
      const { statement, sub } = lookup(input.Id);
      if (sub !== null) throw validation("Cancel the batch by its own Id, not a sub-statement's");
      if (statement.status === "FINISHED" || statement.status === "FAILED" || statement.status === "ABORTED") {
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
      const all = [...statements.values()]
        .filter((s) => (wanted === null || s.status === wanted) && (prefix === null || (s.statementName ?? "").startsWith(prefix)))
        .sort((a, b) => b.createdAt - a.createdAt);
      const page = all.slice(offset, offset + max);
      return {
        Statements: page.map((s) => ({
          Id: s.id,
          Status: s.status,
          IsBatchStatement: s.isBatch,
          CreatedAt: seconds(s.createdAt),
          UpdatedAt: seconds(s.updatedAt),
          ...(s.statementName === null ? {} : { StatementName: s.statementName }),
          ...(s.isBatch ? { QueryStrings: s.subs.map((sub) => sub.sql) } : { QueryString: s.subs[0]!.sql }),
          ...(s.connection.SecretArn === undefined ? {} : { SecretArn: s.connection.SecretArn }),
        })),
        ...(offset + max < all.length ? { NextToken: Buffer.from(`offset:${offset + max}`).toString("base64") } : {}),
      };
    },
  };

  function lookup(id: unknown): { statement: Statement; sub: SubStatement | null; position: number } {
    if (typeof id !== "string" || id.length === 0) throw validation("Id is required");
    const [base, suffix] = id.split(":") as [string, string | undefined];
    const statement = statements.get(base);
    const position = suffix === undefined ? 0 : Number(suffix);
    const sub = suffix === undefined ? null : statement?.isBatch === true ? statement.subs[position - 1] : undefined;
    if (statement === undefined || sub === undefined) {
      throw new ApiError("ResourceNotFoundException", 404, `Query does not exist: ${id}`, { ResourceId: id });
    }
    return { statement, sub, position };
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const operation = /^RedshiftData\.(\w+)$/.exec(String(req.headers["x-amz-target"] ?? ""))?.[1] ?? "";
    calls[operation] = (calls[operation] ?? 0) + 1;
    const drop = faults.takeDrop();
    if (drop === "before") {
      req.socket.destroy();
      return;
    }
    try {
      if (req.method !== "POST" || (req.url ?? "/") !== "/") throw new ApiError("UnknownOperationException", 404, "POST / only");
      if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) {
        throw new ApiError("MissingAuthenticationTokenException", 403, "Missing Authentication Token");
      }
      const handler = handlers[operation];
      if (handler === undefined) throw new ApiError("UnknownOperationException", 400, `Unknown operation ${operation}`);
      const rejection = faults.takeRejection(operation);
      if (rejection !== null) throw new ApiError(rejection.type, rejection.status, `Injected ${rejection.type}`);
      const output = handler(parseBody(body));
      if (drop === "after") {
        req.socket.destroy();
        return;
      }
      send(res, 200, output);
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError("InternalServerException", 500, messageOf(error));
      send(res, failure.status, { __type: failure.type, message: failure.message, Message: failure.message, ...failure.extra });
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults,
    statements: () =>
      [...statements.values()].map((s) => ({
        id: s.id,
        isBatch: s.isBatch,
        sqls: s.subs.map((sub) => sub.sql),
        status: s.status,
        error: s.error,
        runs: s.runs,
        connection: s.connection,
      })),
    calls: () => ({ ...calls }),
    async reset() {
      await Promise.allSettled([...pending]);
      faults.reset();
      statements.clear();
      tokens.clear();
      for (const operation of Object.keys(calls)) delete calls[operation];
    },
    async stop() {
      for (const statement of statements.values()) {
        statement.cancelRequested = true;
        statement.wake?.();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await Promise.allSettled([...pending]);
      await backend.close();
    },
  };
}

class Cancelled extends Error {
  constructor() {
    super("statement cancelled");
  }
}

function setStatus(statement: Statement, status: Status): void {
  statement.status = status;
  statement.updatedAt = Date.now();
  if (status === "PICKED" || status === "STARTED") {
    for (const sub of statement.subs) if (sub.status === "SUBMITTED") sub.updatedAt = statement.updatedAt;
  }
}

function markSub(sub: SubStatement, status: Status, error: string | null): void {
  sub.status = status;
  sub.error = error;
  sub.updatedAt = Date.now();
}

function describe(statement: Statement): Record<string, unknown> {
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
    const { Id: _id, ...sub } = describeSub(statement, statement.subs[0]!, 0);
    return { ...common, ...sub };
  }
  return {
    ...common,
    HasResultSet: statement.subs.some((sub) => sub.outcome?.result != null),
    SubStatements: statement.subs.map((sub, index) => describeSub(statement, sub, index + 1)),
  };
}

function describeSub(statement: Statement, sub: SubStatement, position: number): Record<string, unknown> {
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
    ResultSize: result === null ? 0 : Buffer.byteLength(JSON.stringify(result.rows, jsonSafe)),
    ...(sub.error === null ? {} : { Error: sub.error }),
  };
}

function durationNs(statement: Statement): number {
  if (statement.startedAt === null || statement.finishedAt === null) return -1;
  return (statement.finishedAt - statement.startedAt) * 1_000_000;
}

function requireTarget(input: Record<string, unknown>): void {
  const hasCluster = typeof input.ClusterIdentifier === "string";
  const hasWorkgroup = typeof input.WorkgroupName === "string";
  if (hasCluster === hasWorkgroup) throw validation("Either ClusterIdentifier or WorkgroupName must be provided");
  if (typeof input.Database !== "string") throw validation("Database is required");
}

function connectionOf(input: Record<string, unknown>): Record<string, string> {
  const connection: Record<string, string> = {};
  for (const key of ["Database", "ClusterIdentifier", "WorkgroupName", "DbUser", "SecretArn"]) {
    if (typeof input[key] === "string") connection[key] = input[key];
  }
  return connection;
}

function checkSize(sql: string): void {
  if (Buffer.byteLength(sql, "utf8") > MAX_STATEMENT_BYTES) throw validation("Cannot process query string larger than 100kB");
}

function decodeToken(token: unknown): number {
  const match = typeof token === "string" ? /^offset:(\d+)$/.exec(Buffer.from(token, "base64").toString()) : null;
  if (match === null) throw validation("Invalid NextToken");
  return Number(match[1]);
}

function seconds(ms: number): number {
  return ms / 1000;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body === "" ? "{}" : body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ApiError("SerializationException", 400, messageOf(error));
  }
  throw new ApiError("SerializationException", 400, "body must be a JSON object");
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, jsonSafe);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
  });
  res.end(text);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Field union per column type (aws-facts §5.1: integers -> long, floats -> double, DECIMAL -> string)
// ---------------------------------------------------------------------------------------------

const LONG_TYPES = new Set([20, 21, 23, 26, 28]);
const DOUBLE_TYPES = new Set([700, 701]);
const BOOL_TYPE = 16;
const BYTEA_TYPE = 17;
const TYPE_NAMES: Readonly<Record<number, string>> = {
  16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text", 26: "oid",
  700: "float4", 701: "float8", 1042: "bpchar", 1043: "varchar", 1082: "date", 1083: "time", 1114: "timestamp",
  1184: "timestamptz", 1700: "numeric",
};
/** PGlite parses these into Dates/objects; keep PostgreSQL's text form, as Redshift sends it. */
const TEXT_PARSERS = Object.fromEntries([1082, 1083, 1114, 1184, 1186, 1266, 114, 3802].map((oid) => [oid, (v: string) => v]));

function encodeField(value: unknown, typeId: number): Record<string, unknown> {
  if (value === null || value === undefined) return { isNull: true };
  if (LONG_TYPES.has(typeId)) return { longValue: Number(value) };
  if (DOUBLE_TYPES.has(typeId)) return { doubleValue: Number(value) };
  if (typeId === BOOL_TYPE) return { booleanValue: value === true || value === "t" || value === "true" };
  if (typeId === BYTEA_TYPE) {
    const bytes = value instanceof Uint8Array ? value : Buffer.from(String(value).replace(/^\\x/, ""), "hex");
    return { blobValue: Buffer.from(bytes).toString("base64") };
  }
  if (typeof value === "string") return { stringValue: value };
  if (value instanceof Date) return { stringValue: value.toISOString() };
  return { stringValue: typeof value === "object" ? JSON.stringify(value, jsonSafe) : String(value) };
}

function typeName(typeId: number): string {
  return TYPE_NAMES[typeId] ?? `oid:${typeId}`;
}

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

async function openBackend(options: LocalDataApiOptions): Promise<Backend> {
  if (options.pgUrl !== undefined) return pgBackend(options.pgUrl);
  if (options.pglite !== undefined) return pgliteBackend(options.pglite, false);
  return pgliteBackend(await PGlite.create(), true);
}

function pgliteBackend(db: PGlite, owned: boolean): Backend {
  type Queryable = Pick<PGlite, "query">;
  const run = async (target: Queryable, sql: string): Promise<Outcome> => {
    const result = await target.query<unknown[]>(sql, [], { rowMode: "array", parsers: TEXT_PARSERS });
    return {
      result: result.fields.length === 0 ? null : { columns: result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })), rows: result.rows },
      affected: result.affectedRows ?? 0,
    };
  };
  return {
    run: (sql) => run(db, sql),
    async runBatch(sqls, before) {
      const outcomes: Outcome[] = [];
      try {
        await db.transaction(async (tx) => {
          for (const [index, sql] of sqls.entries()) {
            try {
              before(index);
              outcomes.push(await run(tx, sql));
            } catch (error) {
              throw new BatchFailure(index, outcomes, error);
            }
          }
        });
      } catch (error) {
        if (error instanceof BatchFailure) throw error;
        throw new BatchFailure(sqls.length - 1, outcomes, error);
      }
      return outcomes;
    },
    async close() {
      if (owned) await db.close();
    },
  };
}

function pgBackend(url: string): Backend {
  // Raw text for every type but bytea, as the Data API sees PostgreSQL's output.
  const types = { getTypeParser: (oid: number) => (oid === BYTEA_TYPE ? pg.types.getTypeParser(oid) : (v: string) => v) };
  const pool = new pg.Pool({ connectionString: url, max: 8, types: types as pg.CustomTypesConfig });
  const run = async (client: pg.Pool | pg.PoolClient, sql: string): Promise<Outcome> => {
    // Extended protocol: one statement per call, like ExecuteStatement.
    const config = { text: sql, rowMode: "array", queryMode: "extended" } as pg.QueryArrayConfig;
    const result = await client.query(config);
    return {
      result: result.fields.length === 0 ? null : { columns: result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })), rows: result.rows },
      affected: result.rowCount ?? 0,
    };
  };
  return {
    run: (sql) => run(pool, sql),
    async runBatch(sqls, before) {
      const client = await pool.connect();
      const outcomes: Outcome[] = [];
      try {
        await client.query("BEGIN");
        for (const [index, sql] of sqls.entries()) {
          try {
            before(index);
            outcomes.push(await run(client, sql));
          } catch (error) {
            await client.query("ROLLBACK");
            throw new BatchFailure(index, outcomes, error);
          }
        }
        try {
          await client.query("COMMIT");
        } catch (error) {
          throw new BatchFailure(sqls.length - 1, outcomes, error);
        }
        return outcomes;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
