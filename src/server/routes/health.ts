import type { FastifyInstance } from "fastify";
import type { ReadinessCheck } from "../app.js";
import { isReportAuthorized } from "../auth.js";
import { z } from "zod";

const checkSchema = z.object({ name: z.string(), ok: z.boolean(), message: z.string().optional() });
const readySchema = z.object({ status: z.enum(["ready", "not ready"]), checks: z.array(checkSchema) });

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  // One probe at a time, reused for server.readyCacheMs: a flood of /readyz costs one probe per window.
  let cached: { readonly at: number; readonly checks: Promise<readonly ReadinessCheck[]> } | null = null;
  const probe = (): Promise<readonly ReadinessCheck[]> => {
    const now = Date.now();
    if (cached === null || now - cached.at >= app.deps.server.readyCacheMs) cached = { at: now, checks: app.deps.checkReady() };
    return cached.checks;
  };
  app.get(
    "/healthz",
    {
      schema: {
        summary: "Liveness: the process is up (no I/O)",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        summary: "Readiness: the catalog source, the target database and the lease table are reachable",
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (request, reply) => {
      const checks = await probe();
      const ready = checks.every((c) => c.ok);
      // Anonymous callers learn only which part is down; why (host names, AWS error text) needs the report token.
      const shown = isReportAuthorized(request.headers, app.deps.server) ? checks : checks.map(({ name, ok }) => ({ name, ok }));
      return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks: shown });
    },
  );
}
