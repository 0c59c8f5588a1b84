import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { eventReads } from "../event-reads.js";
import { classifyEvent, type EventEnvelope, eventEnvelopeSchema } from "../events.js";
import type { WebhookOutcome } from "../metrics.js";
import { createRecentIds, type RecentIds } from "../recent-ids.js";
import { describeZodError } from "../validation.js";

/** EventBridge retries a failed delivery for up to 24 hours (aws-facts §4.3). */
const REMEMBER_IDS = 10_000;
const REMEMBER_MS = 24 * 60 * 60 * 1000;

const acceptedSchema = z.object({
  status: z.enum(["accepted", "duplicate", "ignored"]),
  id: z.string(),
  /** accepted: the event name; ignored: why. */
  event: z.string().optional(),
  reason: z.string().optional(),
  /** accepted: a new run was queued, or the event joined the one already waiting. */
  run: z.enum(["queued", "coalesced"]).optional(),
});
const errorSchema = z.object({ code: z.string(), message: z.string() });

/**
 * POST /webhooks/lakeformation: an EventBridge API destination delivers the event here. The answer
 * never waits for a run (EventBridge gives up after 5 s and retries, aws-facts §4.3): the event
 * only says "run soon", and the queue coalesces bursts into one level-triggered run.
 */
export async function webhookRoutes(app: FastifyInstance): Promise<void> {
  const recent = createRecentIds({ max: REMEMBER_IDS, ttlMs: REMEMBER_MS, now: () => app.clock().getTime() });
  const count = (outcome: WebhookOutcome) => app.metrics.webhookEvents.inc({ outcome });
  readAnyBodyAsJson(app);
  app.addHook("onResponse", async (_request, reply) => {
    if (reply.statusCode === 401) count("unauthorized");
    else if (reply.statusCode >= 400 && reply.statusCode < 500) count("invalid");
  });

  app.post(
    "/webhooks/lakeformation",
    {
      config: { auth: "webhook" },
      bodyLimit: app.deps.server.bodyLimitBytes,
      schema: {
        summary: "Lake Formation / Glue change event from an EventBridge API destination",
        description:
          "Answers 202 at once. Relevant events (tag, permission and expression operations; Glue database and table changes) queue a run after a debounce window: incremental when the event names what it changed, else a full reconcile (at most one per incremental.minFullRunIntervalSeconds); partition-only changes are ignored; bursts coalesce into at most one run in progress and one waiting. A retried event (same id) is a duplicate.",
        body: eventEnvelopeSchema,
        response: { 202: acceptedSchema, 400: errorSchema, 401: errorSchema, 413: errorSchema, 503: errorSchema },
      },
    },
    (request, reply) => answerEvent(app, { recent, count }, request, reply),
  );
}

/** The Content-Type an API destination sends is unconfirmed (aws-facts §4.3): read any body as JSON. */
function readAnyBodyAsJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (cause) {
      const error = Object.assign(new Error(`malformed JSON body: ${cause instanceof Error ? cause.message : String(cause)}`), { statusCode: 400 });
      done(error, undefined);
    }
  });
}

interface WebhookState {
  /** Event ids accepted in the last 24 h: a redelivery is a duplicate. */
  readonly recent: RecentIds;
  readonly count: (outcome: WebhookOutcome) => void;
}

/** Classify, then ignore, drop a duplicate, or queue a run; never waits for the run. */
async function answerEvent(app: FastifyInstance, { recent, count }: WebhookState, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const event = request.body as EventEnvelope;
  let verdict;
  try {
    verdict = classifyEvent(event);
  } catch (error) {
    if (error instanceof z.ZodError) return reply.code(400).send({ code: "BAD_REQUEST", message: describeZodError(error, "body.detail") });
    throw error;
  }
  // Partition-only changes, UpdateLFTag adding values, grants on named resources: nothing to run (issue 11).
  const reads = verdict.relevant ? eventReads(event, verdict.name) : null;
  if (reads?.kind === "ignore") {
    verdict = { relevant: false as const, reason: reads.reason };
    app.metrics.eventRuns.inc({ kind: "ignored" });
  }
  if (!verdict.relevant) {
    count("ignored");
    request.log.debug({ eventId: event.id, reason: verdict.reason }, "webhook event ignored");
    return reply.code(202).send({ status: "ignored", id: event.id, reason: verdict.reason });
  }
  if (recent.has(event.id)) {
    count("duplicate");
    return reply.code(202).send({ status: "duplicate", id: event.id, event: verdict.name });
  }
  if (reads !== null && reads.kind !== "ignore") app.deps.noteEvent?.(reads);
  const run = app.runQueue.enqueue("webhook");
  if (run === "stopping") {
    // Not remembered: EventBridge retries, and the next instance runs it.
    count("refused");
    return reply.code(503).header("retry-after", "30").send({ code: "SHUTTING_DOWN", message: "the server is shutting down; retry later" });
  }
  recent.add(event.id);
  count("accepted");
  request.log.info({ eventId: event.id, event: verdict.name, run }, "webhook event accepted");
  return reply.code(202).send({ status: "accepted", id: event.id, event: verdict.name, run });
}
