import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { z } from "zod";
import type { ServerConfig } from "../config/schema.js";
import type { Plan } from "../core/plan.js";
import { SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { AccessFilter, AccessReport } from "../run/access.js";
import type { RunSummary } from "../run/reconcile.js";
import type { RunRecord } from "../warehouse/state-store.js";
import { hasReportCredentials, hasWebhookCredentials, isReportAuthorized, isWebhookAuthorized } from "./auth.js";
import type { EventReads } from "./event-reads.js";
import { createServerMetrics, type ServerMetrics } from "./metrics.js";
import { type RouteDoc, openApiRoutes } from "./routes/openapi.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { accessRoutes } from "./routes/access.js";
import { planRoutes } from "./routes/plan.js";
import { runsRoutes } from "./routes/runs.js";
import { webhookRoutes } from "./routes/webhook.js";
import { createRunQueue, type RunQueue, type RunTrigger } from "./run-queue.js";
import { UnrecordedRuns } from "./unrecorded-runs.js";
import { describeZodError } from "./validation.js";

export interface ReadinessCheck {
  /** `source`, `target`, `lease`. */
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed; never a secret. */
  readonly message?: string;
}

/** The ports the server needs: serve.ts wires the real ones from config, tests the real ones on PGlite. */
export interface ServerDeps {
  /** Credentials already resolved (`env:NAME` replaced by the config loader). */
  readonly server: ServerConfig;
  readonly logger: Logger;
  readonly runReconcile: (trigger: RunTrigger) => Promise<RunSummary>;
  /** A fresh dry run; must not write anything. */
  readonly computePlan: () => Promise<Plan>;
  /** A dry run over the last snapshot without reading the source, and when that snapshot was read; null: none yet. */
  readonly cachedPlan?: () => Promise<{ readonly plan: Plan; readonly readAt: Date } | null>;
  /** Records what an accepted webhook event names, for the incremental run it queues (absent: every run is full). */
  readonly noteEvent?: (reads: Exclude<EventReads, { kind: "ignore" }>) => void;
  /** The current effective access (GET /access); must not write anything. */
  readonly computeAccess: (filter: AccessFilter) => Promise<AccessReport>;
  readonly listRuns: (limit: number) => Promise<readonly RunRecord[]>;
  readonly getRun: (runId: string) => Promise<RunRecord | null>;
  readonly checkReady: () => Promise<readonly ReadinessCheck[]>;
  readonly now?: () => Date;
}

/** Another process holds the lease (the scheduled ECS task, another replica): ask again, gently. */
const BUSY_RETRY_MIN_MS = 10_000;

export type AuthScheme = "webhook" | "report";

declare module "fastify" {
  interface FastifyInstance {
    readonly deps: ServerDeps;
    readonly runQueue: RunQueue;
    readonly metrics: ServerMetrics;
    /** Runs the run log could not take: GET /runs lists them too. */
    readonly unrecordedRuns: UnrecordedRuns;
    readonly clock: () => Date;
  }
  interface FastifyContextConfig {
    /** Credentials the route requires; absent: open (health, metrics, OpenAPI). */
    auth?: AuthScheme;
  }
  interface FastifySchema {
    summary?: string;
    description?: string;
  }
}

/**
 * The fastify app: webhook, plan report, run log, health, metrics, OpenAPI. Each route file is an
 * encapsulated plugin with a zod schema on every route (validation here, documentation in
 * /openapi.json); the run queue and the metrics are decorated once and shared.
 */
export async function buildApp(deps: ServerDeps): Promise<FastifyInstance> {
  const clock = deps.now ?? (() => new Date());
  const app = Fastify(fastifyOptions(deps));
  const metrics = createServerMetrics(clock);
  const unrecordedRuns = new UnrecordedRuns();
  const runQueue = createRunQueue({
    run: deps.runReconcile,
    debounceMs: deps.server.debounceMs,
    retryBusyAfterMs: Math.max(deps.server.debounceMs, BUSY_RETRY_MIN_MS),
    logger: deps.logger,
    onRunEnd: (outcome) => {
      metrics.recordRun(outcome);
      if ("unrecorded" in outcome && outcome.unrecorded !== undefined) unrecordedRuns.add(outcome.unrecorded);
    },
    onDepthChange: (waiting, running) => metrics.setQueueDepth(waiting, running),
  });
  app.decorate("deps", deps).decorate("runQueue", runQueue).decorate("metrics", metrics).decorate("clock", clock).decorate("unrecordedRuns", unrecordedRuns);

  app.setValidatorCompiler(({ schema, httpPart }) => (data) => {
    const result = (schema as z.ZodType).safeParse(data);
    return result.success ? { value: result.data } : { error: new Error(describeZodError(result.error, httpPart ?? "body")) };
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ code: "NOT_FOUND", message: `no route ${request.method} ${request.url.split("?")[0]}` }));

  const routes: RouteDoc[] = [];
  app.addHook("onRoute", (route) => {
    if (route.method !== "HEAD") routes.push({ method: String(route.method), url: route.url, schema: route.schema ?? {}, auth: route.config?.auth });
  });
  app.addHook("onRequest", async (request) => {
    const auth = request.routeOptions.config.auth;
    if (auth === undefined) return;
    const ok = auth === "webhook" ? isWebhookAuthorized(request.headers, deps.server.webhook) : isReportAuthorized(request.headers, deps.server);
    if (!ok) throw new SyncError("UNAUTHORIZED", "missing or wrong credentials");
  });
  // preClose, not onClose: onClose runs only after every socket closed, and a slow client must not delay the run's stop.
  app.addHook("preClose", async () => {
    await stopRunQueue(runQueue, deps.server.shutdownGraceMs, deps.logger);
  });

  if (!hasWebhookCredentials(deps.server.webhook)) {
    deps.logger.warn("no webhook credentials configured (server.webhook.apiKey or basicUser + basicPassword): every webhook request is refused with 401");
  }
  if (!hasReportCredentials(deps.server)) deps.logger.warn("no report credentials configured (server.reportToken): GET /plan and /runs refuse every request with 401");

  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(webhookRoutes);
  await app.register(planRoutes);
  await app.register(accessRoutes);
  await app.register(runsRoutes);
  await app.register(openApiRoutes, { routes, server: deps.server });
  return app;
}

/** Logging, body and time limits of the server (config server.*). */
function fastifyOptions(deps: ServerDeps) {
  return {
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request lines add nothing to our own structured logs (FSTDEP023: the top-level option is deprecated).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.server.bodyLimitBytes,
    // A slow client (a body trickling in, an idle socket) is cut off instead of holding a socket.
    requestTimeout: deps.server.requestTimeoutMs,
    connectionTimeout: deps.server.connectionTimeoutMs,
    // Node 20 honours requestTimeout only when given to the http server's constructor (fastify sets it
    // afterwards), and checks it on connectionsCheckingInterval (default 30 s): check often enough.
    http: {
      requestTimeout: deps.server.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(deps.server.requestTimeoutMs / 4))),
    },
    // Once the run queue has stopped (preClose), the remaining sockets go; no request keeps the process up.
    forceCloseConnections: true,
  };
}

/**
 * No new runs; the running one stops before its next batch. Waits at most `graceMs`: a run stuck
 * past it (its batch is bounded by the target's own timeouts) is left behind, so that shutdown
 * goes on and the lease is released rather than renewed forever.
 */
async function stopRunQueue(queue: RunQueue, graceMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), graceMs);
  });
  try {
    const outcome = await Promise.race([queue.shutdown().then(() => "stopped" as const), expired]);
    if (outcome === "expired") logger.error({ graceMs }, "the running run did not stop within server.shutdownGraceMs; shutting down without it");
  } finally {
    clearTimeout(timer);
  }
}

/** SyncError -> its status with {code, message}; fastify's client errors keep their status; anything else is a 500 without details. */
function errorHandler(this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof SyncError) {
    if (error.code === "UNAUTHORIZED") {
      const scheme = request.routeOptions.config.auth === "report" ? 'Bearer realm="lf-redshift-sync"' : 'Basic realm="lf-redshift-sync"';
      // The body may still be arriving: answer, then close, so an unauthenticated sender holds no socket.
      void reply.header("www-authenticate", scheme).header("connection", "close");
    } else {
      this.log.warn({ code: error.code, url: request.url }, error.message);
    }
    void reply.code(error.httpStatus).send({ code: error.code, message: error.message });
    return;
  }
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    void reply.code(413).send({ code: "PAYLOAD_TOO_LARGE", message: `the body is larger than ${this.deps.server.bodyLimitBytes} bytes` });
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    void reply.code(status).send({ code: status === 400 ? "BAD_REQUEST" : (error.code ?? "CLIENT_ERROR"), message: error.message });
    return;
  }
  this.log.error({ err: error, method: request.method, url: request.url }, "request failed");
  void reply.code(500).send({ code: "INTERNAL", message: "internal error (see the server log)" });
}
