import { createHash, randomUUID } from "node:crypto";
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type ColumnMetadata,
  type DescribeStatementResponse,
  type ExecuteStatementCommandInput,
  type Field,
} from "@aws-sdk/client-redshift-data";
import type { DataApiTargetConfig } from "../config/schema.js";
import { byteLength } from "../core/sql.js";
import { SyncError } from "../errors.js";
import type { Row, SqlExecutor, SqlValue } from "./executor.js";

/** Data API limits (aws-facts §5.1, §5.3, trap 15). */
export const MAX_BATCH_STATEMENTS = 40;
export const MAX_STATEMENT_BYTES = 100 * 1024;
const MAX_POLL_INTERVAL_MS = 5_000;
const SUBMIT_BACKOFF_MS = 200;
/**
 * Errors after which a submit is safe to repeat with the same ClientToken (aws-facts §5.4), and how
 * many submits each allows. DatabaseConnectionException is what a Serverless workgroup answers
 * while it resumes, which takes tens of seconds: it gets a longer budget (~40 s of backoff).
 */
const SUBMIT_ATTEMPTS: Readonly<Record<string, number>> = {
  ActiveStatementsExceededException: 6,
  ThrottlingException: 6,
  ExecuteStatementException: 6,
  BatchExecuteStatementException: 6,
  DatabaseConnectionException: 12,
};
const TERMINAL = new Set(["FINISHED", "FAILED", "ABORTED"]);

export interface DataApiExecutorOptions {
  readonly client?: RedshiftDataClient;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The connection members every submit carries; never includes anything but the secret's ARN. */
type Connection = Pick<ExecuteStatementCommandInput, "Database" | "ClusterIdentifier" | "WorkgroupName" | "DbUser" | "SecretArn">;

export function createDataApiExecutor(config: DataApiTargetConfig, options: DataApiExecutorOptions = {}): SqlExecutor {
  const ownsClient = options.client === undefined;
  const api: DataApi = {
    client: options.client ?? dataApiClient(config),
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    config,
    where: config.workgroupName !== undefined
      ? `workgroup ${config.workgroupName}, database ${config.database}`
      : `cluster ${config.clusterIdentifier ?? "?"}, database ${config.database}`,
  };
  const connection: Connection = {
    Database: config.database,
    ClusterIdentifier: config.clusterIdentifier,
    WorkgroupName: config.workgroupName,
    DbUser: config.dbUser,
    SecretArn: config.secretArn,
  };
  return {
    dialect: config.dialect,

    async query(sql) {
      checkStatementSize(sql, 1);
      // One token for every attempt of this submit, so a retried call cannot run the statement twice.
      const clientToken = randomUUID();
      const id = await submit(api, "ExecuteStatement", () =>
        api.client.send(new ExecuteStatementCommand({ ...connection, Sql: sql, ClientToken: clientToken })),
      );
      const described = await awaitTerminal(api, id);
      if (described.Status !== "FINISHED") {
        throw new SyncError("TARGET_FAILED", `statement ${id} ${described.Status}: ${described.Error ?? "no error text"}`);
      }
      return described.HasResultSet === true ? fetchRows(api, id) : [];
    },

    async transaction(statements, txOptions) {
      if (statements.length === 0) return;
      checkBatchSize(statements);
      const clientToken = batchToken(statements, connection, txOptions?.token);
      const id = await submit(api, "BatchExecuteStatement", () =>
        api.client.send(new BatchExecuteStatementCommand({ ...connection, Sqls: [...statements], ClientToken: clientToken })),
      );
      const described = await awaitTerminal(api, id);
      if (described.Status !== "FINISHED") {
        throw new SyncError("TARGET_FAILED", batchFailure(described, statements));
      }
    },

    async close() {
      if (ownsClient) api.client.destroy();
    },
  };
}

/** What every Data API call of one executor shares. */
interface DataApi {
  readonly client: RedshiftDataClient;
  readonly sleep: (ms: number) => Promise<void>;
  readonly config: DataApiTargetConfig;
  /** The target in error messages: workgroup or cluster, and database. */
  readonly where: string;
}

function dataApiClient(config: DataApiTargetConfig): RedshiftDataClient {
  return new RedshiftDataClient({
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    retryMode: "adaptive",
    maxAttempts: 8,
  });
}

/** Submits a statement, repeating it (same ClientToken) after the errors SUBMIT_ATTEMPTS allows, with backoff. */
async function submit(api: DataApi, kind: string, send: () => Promise<{ Id?: string | undefined }>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { Id } = await send();
      if (Id === undefined) throw new SyncError("TARGET_FAILED", `${kind} on ${api.where} returned no statement Id`);
      return Id;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (attempt >= (SUBMIT_ATTEMPTS[name] ?? 0)) {
        if (error instanceof SyncError) throw error;
        throw new SyncError("TARGET_FAILED", `${kind} on ${api.where} failed: ${errorText(error)}`, { cause: error });
      }
      await api.sleep(Math.min(SUBMIT_BACKOFF_MS * 2 ** (attempt - 1), MAX_POLL_INTERVAL_MS));
    }
  }
}

/** Polls until FINISHED/FAILED/ABORTED; cancels and fails once statementTimeoutMs is spent. */
async function awaitTerminal(api: DataApi, id: string): Promise<DescribeStatementResponse> {
  const { config } = api;
  const started = Date.now();
  let slept = 0;
  let interval = config.pollIntervalMs;
  for (;;) {
    const described = await call(api, `DescribeStatement ${id}`, () => api.client.send(new DescribeStatementCommand({ Id: id })));
    if (described.Status !== undefined && TERMINAL.has(described.Status)) return described;
    if (Math.max(Date.now() - started, slept) + interval > config.statementTimeoutMs) {
      await cancel(api, id);
      throw new SyncError(
        "TARGET_FAILED",
        `statement ${id} on ${api.where} did not finish within ${config.statementTimeoutMs} ms (last status ${described.Status ?? "unknown"}); it was cancelled`,
      );
    }
    await api.sleep(interval);
    slept += interval;
    interval = Math.min(Math.round(interval * 1.5), MAX_POLL_INTERVAL_MS);
  }
}

async function cancel(api: DataApi, id: string): Promise<void> {
  try {
    await api.client.send(new CancelStatementCommand({ Id: id }));
  } catch (error) {
    throw new SyncError(
      "TARGET_FAILED",
      `statement ${id} on ${api.where} timed out and could not be cancelled: ${errorText(error)}`,
      { cause: error },
    );
  }
}

async function call<T>(api: DataApi, what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new SyncError("TARGET_FAILED", `${what} on ${api.where} failed: ${errorText(error)}`, { cause: error });
  }
}

/** Every page of a finished statement's result, decoded by the column names of the first page that has them. */
async function fetchRows(api: DataApi, id: string): Promise<Row[]> {
  const rows: Row[] = [];
  let names: readonly string[] | undefined;
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await call(api, `GetStatementResult ${id}`, () =>
      api.client.send(new GetStatementResultCommand({ Id: id, ...(token === undefined ? {} : { NextToken: token }) })),
    );
    if (names === undefined && page.ColumnMetadata !== undefined && page.ColumnMetadata.length > 0) {
      names = columnNames(page.ColumnMetadata);
    }
    for (const record of page.Records ?? []) rows.push(rowFromRecord(record, names ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined && nextToken !== "");
  return rows;
}

function checkBatchSize(statements: readonly string[]): void {
  if (statements.length > MAX_BATCH_STATEMENTS) {
    throw new SyncError(
      "TARGET_FAILED",
      `a Data API batch holds at most ${MAX_BATCH_STATEMENTS} statements, got ${statements.length}; split the plan into smaller batches`,
    );
  }
  statements.forEach((sql, index) => checkStatementSize(sql, index + 1));
}

function checkStatementSize(sql: string, position: number): void {
  const bytes = byteLength(sql);
  if (bytes > MAX_STATEMENT_BYTES) {
    throw new SyncError(
      "TARGET_FAILED",
      `statement ${position} is ${bytes} bytes; the Data API takes at most ${MAX_STATEMENT_BYTES} bytes per statement`,
    );
  }
}

/**
 * ClientToken of a batch (1-64 chars, kept by the service for 8 h: aws-facts §5.3, trap 16). The caller's
 * token is used as is when it fits; otherwise, and when there is none, a sha256 of the target and the
 * statements. A derived token makes an identical batch within 8 h a no-op at the service, so callers
 * should pass a token unique to the run and batch (the state rows of a batch carry the run id anyway).
 */
function batchToken(statements: readonly string[], connection: Connection, token?: string): string {
  if (token !== undefined && token.length >= 1 && token.length <= 64) return token;
  const hash = createHash("sha256");
  if (token !== undefined) hash.update(`token\u0000${token}\u0000`);
  for (const part of [connection.ClusterIdentifier, connection.WorkgroupName, connection.Database, connection.DbUser]) {
    hash.update(`${part ?? ""}\u0000`);
  }
  for (const sql of statements) hash.update(`${sql}\u0000`);
  return hash.digest("hex");
}

/** SQL errors live in `Error` and `SubStatements[].Error`, not in exceptions (trap 14). */
function batchFailure(described: DescribeStatementResponse, statements: readonly string[]): string {
  const subs = described.SubStatements ?? [];
  const failing = subs.filter((sub) => sub.Error !== undefined && sub.Error !== "");
  const first = failing[0] ?? subs.find((sub) => sub.Status === "FAILED" || sub.Status === "ABORTED");
  const parts = [`batch ${described.Id ?? "?"} ${described.Status ?? "?"} (${statements.length} statements, rolled back)`];
  if (first !== undefined) {
    const position = Number(first.Id?.split(":").pop());
    const sql = Number.isInteger(position) ? statements[position - 1] : undefined;
    parts.push(`at ${first.Id ?? "?"}${sql === undefined ? "" : ` (${sqlPreview(sql)})`}: ${first.Error ?? first.Status ?? ""}`);
  }
  for (const sub of failing.slice(1)) parts.push(`${sub.Id ?? "?"}: ${sub.Error ?? ""}`);
  if (described.Error !== undefined && described.Error !== "" && described.Error !== first?.Error) {
    parts.push(`batch error: ${described.Error}`);
  }
  return parts.join("; ");
}

function sqlPreview(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length <= 120 ? flat : `${flat.slice(0, 117)}...`;
}

/**
 * Decodes one record of the `Field` union by column name (trap 14: DECIMAL arrives as a string).
 * Names are lower-cased: with describe_field_name_in_uppercase on, Redshift returns them upper-cased.
 */
function rowFromRecord(record: readonly Field[], names: readonly string[]): Row {
  const row: Record<string, SqlValue> = {};
  record.forEach((field, index) => {
    row[names[index] ?? `column${index + 1}`] = fieldValue(field);
  });
  return row;
}

function columnNames(columns: readonly ColumnMetadata[]): string[] {
  return columns.map((column, index) => (column.name ?? `column${index + 1}`).toLowerCase());
}

export function fieldValue(field: Field): SqlValue {
  if (field.isNull === true) return null;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue).toString("base64");
  throw new SyncError("TARGET_FAILED", `unknown Data API field ${JSON.stringify(Object.keys(field))}`);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.name === "Error" ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}
