import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { accessCsvChunks, accessJsonChunks } from "../../core/access/access-report.js";
import { accessTextChunks } from "../../core/access/access-text.js";
import { ACCESS_HTML_CSP, accessHtmlChunks } from "../access-html.js";
import { sendHtml } from "../html-reply.js";
import { preferredType } from "../negotiate.js";
import { whileComputing } from "../long-answer.js";

const OFFERS = ["text/html", "application/json", "text/csv", "text/plain"] as const;
const FORMATS = { html: "text/html", json: "application/json", csv: "text/csv", text: "text/plain" } as const;

const querySchema = z.object({
  grantee: z.string().min(1).max(512).optional().describe("only this grantee (exact name)"),
  schema: z.string().min(1).max(512).optional().describe("only this schema (exact name)"),
  table: z.string().min(1).max(512).optional().describe("only this table (exact name)"),
  format: z.enum(["html", "json", "csv", "text"]).optional().describe("overrides the Accept header"),
});
const errorSchema = z.object({ code: z.string(), message: z.string() });

/**
 * GET /access: the current effective access, not a diff (README "Access report"): who holds what,
 * the policies, tags and inheritance level behind each grant, and held grants no policy explains.
 */
export async function accessRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    "/access",
    {
      config: { auth: "report" },
      schema: {
        summary: "Effective access: grantee, object, privilege, columns, and the policies and tags behind each grant",
        description: "HTML with filters, JSON (policies listed once), CSV or text; `?format=` overrides Accept. Held grants no policy explains are marked `unexplained`.",
        querystring: querySchema,
        response: { 200: { content: { "text/html": { schema: z.string() }, "application/json": { schema: z.unknown() }, "text/csv": { schema: z.string() }, "text/plain": { schema: z.string() } } }, 401: errorSchema, 406: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const query = request.query as z.infer<typeof querySchema>;
      const type = query.format === undefined ? preferredType(request.headers.accept, OFFERS) : FORMATS[query.format];
      if (type === null) return reply.code(406).send({ code: "NOT_ACCEPTABLE", message: `GET /access answers ${OFFERS.join(", ")}` });
      const { rows, generatedAt } = await whileComputing(request, app.deps.server, () => app.deps.computeAccess({ grantee: query.grantee, schema: query.schema, table: query.table }));
      void reply.header("vary", "accept").header("cache-control", "no-store");
      switch (type) {
        case "application/json":
          return reply.type("application/json; charset=utf-8").send(Readable.from(accessJsonChunks(rows)));
        case "text/csv":
          return reply.type("text/csv; charset=utf-8").header("content-disposition", 'attachment; filename="access.csv"').send(Readable.from(accessCsvChunks(rows)));
        case "text/plain":
          return reply.type("text/plain; charset=utf-8").send(Readable.from(accessTextChunks(rows)));
        case "text/html":
          return sendHtml(reply, ACCESS_HTML_CSP, accessHtmlChunks(rows, { generatedAt }));
      }
    },
  );
}
