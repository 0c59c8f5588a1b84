import type { FastifyInstance } from "fastify";
import { type Config, serverSchema } from "../config/schema.js";
import { createLogger, type Logger } from "../log.js";
import { computeAccess } from "../run/access.js";
import { computePlan } from "../run/compute-plan.js";
import { reconcile } from "../run/reconcile.js";
import { openLock, openSource, openTarget } from "../run/wiring.js";
import { getRun, listRuns } from "../warehouse/state-store.js";
import { buildApp } from "./app.js";
import { createReadiness } from "./readiness.js";
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
  const executor = await openTarget(config);
  const source = openSource(config);
  const lock = openLock(config);
  const readiness = createReadiness(config, executor);

  const app = await buildApp({
    server,
    logger,
    runReconcile: (trigger) =>
      reconcile({ config, source, executor, lock, logger, command: trigger.reasons.join("+"), shouldStop: trigger.shouldStop }),
    computePlan: async () => (await computePlan({ config, source, executor })).plan,
    computeAccess: (filter) => computeAccess({ config, source, executor, filter }),
    listRuns: (limit) => listRuns(executor, config.stateSchema, limit),
    getRun: (runId) => getRun(executor, config.stateSchema, runId),
    checkReady: () => readiness.check(),
  });
  const schedule = config.schedule === undefined ? null : startSchedule(config.schedule.every, app.runQueue, logger);
  const release = async () => {
    readiness.close();
    await lock.close();
    await executor.close();
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

/** `lf-redshift-sync serve`: runs until SIGTERM or SIGINT, then shuts down gracefully and exits 0. */
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
  await running.stop();
  logger.info("stopped");
  return 0;
}
