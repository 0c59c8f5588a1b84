import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Plan } from "../../core/plan.js";
import { Readable } from "node:stream";
import { planJsonChunks, planTextChunks } from "../../core/plan-report.js";
import { sendHtml } from "../html-reply.js";
import { preferredType } from "../negotiate.js";
import { filterPlan, type PlanFilter } from "../plan-filter.js";
import { PLAN_HTML_CSP, renderPlanHtmlChunks } from "../plan-html.js";
import { whileComputing } from "../long-answer.js";

const OFFERS = ["text/html", "application/json", "text/plain"] as const;

const querySchema = z.object({
  grantee: z.string().min(1).max(512).optional().describe("only this grantee (exact name)"),
  schema: z.string().min(1).max(512).optional().describe("only this schema (exact name)"),
  refresh: z.enum(["0", "1"]).optional().describe("1: read the catalog again; otherwise the last snapshot is served, its age in x-snapshot-age-seconds"),
});

const policySchema = z.object({
  id: z.string(),
  principal: z.string(),
  resourceType: z.enum(["DATABASE", "TABLE"]),
  expression: z.string(),
  permissions: z.array(z.string()),
});
const grantSchema = z.object({
  privilege: z.string(),
  grantee: z.object({ kind: z.enum(["group", "role"]), name: z.string() }),
  object: z.object({ schema: z.string(), table: z.string().nullable(), columns: z.array(z.string()).nullable() }),
  because: z.array(z.string()),
});
/** DESIGN §4.2. */
const planJsonSchema = z.object({
  policies: z.array(policySchema),
  changes: z.array(grantSchema.extend({ op: z.enum(["grant", "revoke"]), reason: z.string() })),
  pending: z.array(grantSchema.extend({ missing: z.enum(["grantee", "schema", "table", "columns"]) })),
  adopted: z.array(grantSchema.omit({ because: true })),
  unmanaged: z.array(grantSchema.omit({ because: true }).extend({ why: z.enum(["noPolicy", "widerThanAllowed"]), mode: z.enum(["recorded", "adopt", "authoritative"]) })),
  ownership: z.array(z.object({ grantee: z.object({ kind: z.enum(["group", "role"]), name: z.string() }), mode: z.enum(["recorded", "adopt", "authoritative"]) })),
  warnings: z.array(z.string()),
  summary: z.object({ grants: z.number(), revokes: z.number(), pending: z.number(), unchanged: z.number(), stateOnly: z.number(), adopted: z.number(), unmanaged: z.number() }),
  safety: z.object({ refused: z.boolean(), forced: z.boolean(), reasons: z.array(z.string()) }),
});
const errorSchema = z.object({ code: z.string(), message: z.string() });

/** GET /plan: a fresh dry run, read-only on both sides, in the format the client asks for. */
export async function planRoutes(app: FastifyInstance): Promise<void> {
  // Requests that arrive while a plan is being computed share it: a page reloaded by many readers
  // costs one catalog read, not one each (Lake Formation's rate limits are undocumented, aws-facts §2.3).
  let inflight: Promise<Plan> | null = null;
  const freshPlan = (): Promise<Plan> =>
    (inflight ??= app.deps.computePlan().finally(() => {
      inflight = null;
    }));

  app.get(
    "/plan",
    {
      config: { auth: "report" },
      schema: {
        summary: "Dry-run diff: the GRANTs and REVOKEs a run would apply now, and why",
        description:
          "JSON (DESIGN §4.2: each policy listed once, changes refer to it by id) for Accept: application/json, terraform-style text for text/plain, a self-contained HTML report otherwise. Streamed.",
        querystring: querySchema,
        response: {
          200: {
            content: {
              "application/json": { schema: planJsonSchema },
              "text/plain": { schema: z.string() },
              "text/html": { schema: z.string() },
            },
          },
          401: errorSchema,
          406: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const type = preferredType(request.headers.accept, OFFERS);
      if (type === null) return reply.code(406).send({ code: "NOT_ACCEPTABLE", message: `GET /plan answers ${OFFERS.join(", ")}` });
      const { refresh, ...filter } = request.query as PlanFilter & { refresh?: "0" | "1" };
      // The last snapshot unless asked to refresh: a page view must not cost a full catalog read (issue 11).
      const cached = refresh === "1" || app.deps.cachedPlan === undefined ? null : await app.deps.cachedPlan();
      if (cached !== null) void reply.header("x-snapshot-age-seconds", String(Math.max(0, Math.round((app.clock().getTime() - cached.readAt.getTime()) / 1000))));
      const plan = filterPlan(cached?.plan ?? (await whileComputing(request, app.deps.server, freshPlan)), filter);
      void reply.header("vary", "accept").header("cache-control", "no-store");
      switch (type) {
        case "application/json":
          return reply.type("application/json; charset=utf-8").send(Readable.from(planJsonChunks(plan)));
        case "text/plain":
          return reply.type("text/plain; charset=utf-8").send(Readable.from(planTextChunks(plan)));
        case "text/html":
          return sendHtml(reply, PLAN_HTML_CSP, renderPlanHtmlChunks(plan, { generatedAt: app.clock(), filter }));
      }
    },
  );
}
