import type { FastifyInstance } from "fastify";
import type { CatalogSource } from "../catalog/model.js";
import { type Config, type ServerConfig, serverSchema } from "../config/schema.js";
import { createLogger, type Logger } from "../log.js";
import { computeAccess } from "../run/access.js";
import { computePlan } from "../run/compute-plan.js";
import { createEventRunner, type EventRunner, type RunKind } from "../run/event-runs.js";
import { reconcile } from "../run/reconcile.js";
import { createSnapshotCache, type SnapshotCache } from "../run/snapshot-cache.js";
import { checkSource, openLock, openSource, openTarget } from "../run/wiring.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { getRun, listRuns } from "../warehouse/state-store.js";
import { buildApp, type ServerDeps } from "./app.js";
import { createReadiness, type Readiness } from "./readiness.js";
import { startSchedule } from "./schedule.js";

export interface RunningServer {
  readonly app: FastifyInstance;
  /** `http://host:port` as bound (port 0 in the config picks a free one). */
  readonly url: string;
  /** Graceful: stop accepting, no new runs, the running one stops before its next batch, lease released. */
  stop(): Promise<void>;
}

/** Wires config -> adapters -> app and listens. */
export async function startServer(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const server = config.server ?? serverSchema.parse({});
  await checkSource(config, logger);
  const executor = await openTarget(config);
  // Every full read refreshes the snapshot that webhook events patch and GET /plan serves (issue 11).
  const cache = createSnapshotCache(openSource(config));
  const source = cache.source;
  const lock = openLock(config);
  const readiness = createReadiness(config, executor);
  let countRun: (kind: RunKind) => void = () => undefined;
  const events = createEventRunner({
    config,
    cache,
    executor,
    lock,
    logger,
    runFull: (trigger) => reconcile({ config, source, executor, lock, logger, command: trigger.reasons.join("+"), shouldStop: trigger.shouldStop }),
    onRun: (kind) => countRun(kind),
  });

  const app = await buildApp(appDeps({ config, server, logger, source, cache, executor, events, readiness }));
  countRun = (kind) => app.metrics.eventRuns.inc({ kind });
  const schedule = config.schedule === undefined ? null : startSchedule(config.schedule.every, app.runQueue, logger);
  const release = async () => {
    readiness.close();
    // Releasing the lease also stops its renewal, even if a stuck run is still waiting on the target.
    await bounded(lock.close(), RELEASE_TIMEOUT_MS, "releasing the lease", logger);
    await bounded(executor.close(), RELEASE_TIMEOUT_MS, "closing the target connection", logger);
  };
  let address: string;
  try {
    address = await app.listen({ host: server.host, port: server.port });
  } catch (error) {
    schedule?.stop();
    await app.close();
    await release();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    app,
    url: address,
    stop: () =>
      (stopping ??= (async () => {
        schedule?.stop();
        await app.close(); // onClose: the run queue shuts down and waits for the running run
        await release();
      })()),
  };
}

/** What the routes call: runs through the event runner, reads through the cache or the source. */
function appDeps(parts: {
  config: Config;
  server: ServerConfig;
  logger: Logger;
  source: CatalogSource;
  cache: SnapshotCache;
  executor: SqlExecutor;
  events: EventRunner;
  readiness: Readiness;
}): ServerDeps {
  const { config, server, logger, source, cache, executor, events, readiness } = parts;
  return {
    server,
    logger,
    runReconcile: (trigger) => events.run(trigger),
    noteEvent: (reads) => events.note(reads),
    computePlan: async () => (await computePlan({ config, source, executor })).plan,
    cachedPlan: async () => {
      const last = cache.last();
      return last === null ? null : { plan: (await computePlan({ config, source: cache.cachedSource, executor })).plan, readAt: last.readAt };
    },
    computeAccess: (filter) => computeAccess({ config, source, executor, filter }),
    listRuns: (limit) => listRuns(executor, config.stateSchema, limit),
    getRun: (runId) => getRun(executor, config.stateSchema, runId),
    checkReady: () => readiness.check(),
  };
}

/** How long each resource may take to close during shutdown. */
const RELEASE_TIMEOUT_MS = 10_000;

/** Waits for `work` at most `ms`; past it, logs and goes on (shutdown must end). */
async function bounded(work: Promise<unknown>, ms: number, what: string, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), ms);
  });
  try {
    const outcome = await Promise.race([work.then(() => "done" as const, (error: unknown) => logger.warn({ err: error }, `${what} failed`)), expired]);
    if (outcome === "expired") logger.warn({ timeoutMs: ms }, `${what} did not finish in time; going on`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `lf-redshift-sync serve`: runs until SIGTERM or SIGINT, then shuts down gracefully and exits 0.
 * Shutdown is bounded: if it still has not ended after the run's grace plus the releases, the
 * process exits 1 (a watchdog, so that a stuck dependency cannot keep a stopping task alive).
 */
export async function serveCommand(config: Config): Promise<number> {
  const logger = createLogger(config.logLevel);
  const running = await startServer(config, logger);
  logger.info({ url: running.url }, "listening");
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (name: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      resolve(name);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  // A second signal now takes the default action (immediate exit): the handlers are gone.
  logger.info({ signal }, "shutting down: no new runs; the running one stops before its next batch");
  const graceMs = (config.server ?? serverSchema.parse({})).shutdownGraceMs;
  const watchdog = setTimeout(() => {
    logger.error({ graceMs }, "shutdown did not end in time; exiting");
    process.exit(1);
  }, graceMs + 3 * RELEASE_TIMEOUT_MS);
  watchdog.unref();
  await running.stop();
  clearTimeout(watchdog);
  logger.info("stopped");
  return 0;
}
