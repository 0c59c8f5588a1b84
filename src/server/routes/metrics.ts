import type { FastifyInstance } from "fastify";
import { z } from "zod";

export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics: runs, changes applied, failures, last success, webhook events, queue depth",
        response: { 200: { content: { "text/plain": { schema: z.string() } } } },
      },
    },
    async (_request, reply) => {
      const registry = app.metrics.registry;
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
