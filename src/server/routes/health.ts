import type { FastifyInstance } from "fastify";
import { z } from "zod";

const checkSchema = z.object({ name: z.string(), ok: z.boolean(), message: z.string().optional() });
const readySchema = z.object({ status: z.enum(["ready", "not ready"]), checks: z.array(checkSchema) });

export async function healthRoutes(app: FastifyInstance): Promise<void> {
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
    async (_request, reply) => {
      const checks = await app.deps.checkReady();
      const ready = checks.every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
    },
  );
}
