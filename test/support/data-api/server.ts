/**
 * A local Redshift Data API endpoint: the awsJson1_1 wire protocol in front of PostgreSQL
 * (in-process PGlite, or a server by URL). The real @aws-sdk/client-redshift-data client talks to
 * it. It reproduces what the production executor must cope with (aws-facts §5, traps 14-16), and in
 * `mode: "redshift"` it also behaves like Redshift SQL (redshift/mode.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { countingBackend, openBackend, type BackendOptions } from "./backends.js";
import { FaultController } from "./faults.js";
import { postgresMode } from "./mode.js";
import { connectLoosely, operations, type EndpointState } from "./operations.js";
import { ApiError, checkRequest, operationOf, parseBody, readBody, send, sendError } from "./protocol.js";
import { connectDocumented } from "./redshift/credentials.js";
import { redshiftMode, type RedshiftOptions } from "./redshift/mode.js";
import { POSTGRES_LIMITS, ResultMeter, type ResultLimits } from "./results.js";
import { viewOf, type StatementView } from "./statements.js";
import { metricsOf, type DataApiMetrics, type Traffic } from "./traffic.js";

export type { StatementView };

export interface LocalDataApi {
  /** `http://127.0.0.1:<port>` for the SDK client's `endpoint`. */
  readonly endpoint: string;
  readonly faults: FaultController;
  readonly mode: "postgres" | "redshift";
  /** Every statement received, in order of submission. */
  statements(): StatementView[];
  /** HTTP requests received per operation (incl. rejected ones). */
  calls(): Readonly<Record<string, number>>;
  /** Calls, bytes, batches and the largest result read since start or the last reset. */
  metrics(): DataApiMetrics;
  /** Forgets statements, ClientTokens, call counts, metrics and faults (not the database), between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalDataApiOptions extends BackendOptions {
  readonly faults?: FaultController;
  readonly port?: number;
  /** "postgres" (default): SQL runs as written. "redshift": Redshift SQL and limits, emulated. */
  readonly mode?: "postgres" | "redshift";
  readonly redshift?: RedshiftOptions;
}

export async function startLocalDataApi(options: LocalDataApiOptions = {}): Promise<LocalDataApi> {
  const traffic: Traffic = { calls: {}, requestBytes: 0, responseBytes: 0, queries: 0 };
  const state = await openState(options, traffic);
  const { backend, mode, faults } = state.parts;
  const handlers = operations(state);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const operation = operationOf(req);
    traffic.calls[operation] = (traffic.calls[operation] ?? 0) + 1;
    traffic.requestBytes += Buffer.byteLength(body);
    const drop = faults.takeDrop();
    if (drop === "before") return void req.socket.destroy();
    try {
      checkRequest(req);
      const handler = handlers[operation];
      if (handler === undefined) throw new ApiError("UnknownOperationException", 400, `Unknown operation ${operation}`);
      const rejection = faults.takeRejection(operation);
      if (rejection !== null) throw new ApiError(rejection.type, rejection.status, `Injected ${rejection.type}`);
      const output = handler(parseBody(body));
      if (drop === "after") return void req.socket.destroy();
      traffic.responseBytes += send(res, 200, output);
    } catch (error) {
      traffic.responseBytes += sendError(res, error);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults,
    mode: mode.name,
    statements: () => [...state.statements.values()].map(viewOf),
    calls: () => ({ ...traffic.calls }),
    metrics: () => metricsOf(traffic, state.submitted, state.parts.meter.reads),
    async reset() {
      await Promise.allSettled([...state.pending]);
      faults.reset();
      state.statements.clear();
      state.tokens.clear();
      Object.assign(traffic, { calls: {}, requestBytes: 0, responseBytes: 0, queries: 0 });
      Object.assign(state.submitted, { statements: 0, batches: 0, sqlBytes: 0, batchStatements: 0, batchSqlBytes: 0, pagedReadCalls: 0, pagedReadDescribeCalls: 0 });
      state.parts.meter.reset();
    },
    async stop() {
      for (const statement of state.statements.values()) {
        statement.cancelRequested = true;
        statement.wake?.();
      }
      server.closeAllConnections();
      try {
        await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      } finally {
        await Promise.allSettled([...state.pending]);
        await backend.close();
      }
    },
  };
}

async function openState(options: LocalDataApiOptions, traffic: Traffic): Promise<EndpointState> {
  const backend = countingBackend(await openBackend(options), traffic);
  const redshift = options.mode === "redshift";
  const mode = redshift ? redshiftMode(options.redshift ?? {}) : postgresMode;
  await mode.install(backend);
  const faults = options.faults ?? new FaultController();
  return {
    parts: { backend, mode, faults, meter: new ResultMeter(redshift ? redshiftLimits(options.redshift ?? {}) : POSTGRES_LIMITS) },
    statements: new Map(),
    tokens: new Map(),
    pending: new Set(),
    submitted: { statements: 0, batches: 0, sqlBytes: 0, batchStatements: 0, batchSqlBytes: 0, pagedReadCalls: 0, pagedReadDescribeCalls: 0 },
    connect: redshift ? connectDocumented(options.redshift ?? {}) : connectLoosely,
    maxBatchBytes: redshift ? (options.redshift?.maxBatchBytes ?? null) : null,
  };
}

/** 64 KB per row and 100 MB per result by default (aws-facts §5.3); pages of 1 MB (not documented). */
function redshiftLimits(options: RedshiftOptions): ResultLimits {
  return {
    pageRows: null,
    pageBytes: options.pageBytes ?? 1024 * 1024,
    maxRowBytes: 64 * 1024,
    maxResultBytes: options.maxResultBytes ?? 100 * 1024 * 1024,
    uppercaseNames: options.describeFieldNameInUppercase ?? false,
  };
}
