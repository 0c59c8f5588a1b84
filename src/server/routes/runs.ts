import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { isSyncError } from "../../errors.js";

const count = z.number().int().nullable();
/** src/warehouse/state-store.ts RunRecord. */
const runSchema = z.object({
  runId: z.string(),
  command: z.string(),
  status: z.enum(["running", "succeeded", "failed", "refused"]),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  fencingToken: count,
  catalogHash: z.string().nullable(),
  grants: count,
  revokes: count,
  pending: count,
  batchesApplied: count,
  batchesTotal: count,
  errorCode: z.string().nullable(),
  message: z.string().nullable(),
  /** Present only on a run the run log could not take (kept in this server's memory): why. */
  unrecorded: z.string().optional(),
});
const errorSchema = z.object({ code: z.string(), message: z.string() });

/** The run log (DESIGN §4.3), newest first, with the runs it could not take (unrecorded-runs.ts). */
export async function runsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    "/runs",
    {
      config: { auth: "report" },
      schema: {
        summary: "Recent runs, newest first",
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
        response: {
          200: z.object({
            runs: z.array(runSchema),
            /** The run log was not read: the state schema failed the trust check (why); `runs` lists only the unrecorded runs. */
            runLogUntrusted: z.string().optional(),
          }),
          401: errorSchema,
        },
      },
    },
    async (request) => {
      const { limit } = request.query as { limit: number };
      try {
        return { runs: app.unrecordedRuns.merge(await app.deps.listRuns(limit), limit) };
      } catch (error) {
        // Reading an untrusted run log could run someone else's code as the service: the runs this server kept still show.
        if (!isSyncError(error) || error.code !== "STATE_UNTRUSTED") throw error;
        return { runs: app.unrecordedRuns.merge([], limit), runLogUntrusted: error.message };
      }
    },
  );

  app.get(
    "/runs/:id",
    {
      config: { auth: "report" },
      schema: {
        summary: "One run from the run log",
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: runSchema, 401: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const run = app.unrecordedRuns.get(id) ?? (await app.deps.getRun(id));
      if (run === null) return reply.code(404).send({ code: "NOT_FOUND", message: `no run ${id} in the run log` });
      return run;
    },
  );
}
