import { STATUS_CODES } from "node:http";
import type { FastifyInstance, FastifySchema } from "fastify";
import { z } from "zod";
import type { ServerConfig } from "../../config/schema.js";

export interface RouteDoc {
  readonly method: string;
  readonly url: string;
  readonly schema: FastifySchema;
  readonly auth: "webhook" | "report" | undefined;
}

type JsonSchema = Record<string, unknown>;

const SECURITY = {
  webhook: [{ apiKey: [] }, { basic: [] }],
  report: [{ bearer: [] }, { apiKey: [] }, { basic: [] }],
} as const;

/** GET /openapi.json: OpenAPI 3.1, generated from the zod schemas the routes validate with. */
export async function openApiRoutes(app: FastifyInstance, options: { routes: readonly RouteDoc[]; server: ServerConfig }): Promise<void> {
  let document: unknown;
  app.get(
    "/openapi.json",
    { schema: { summary: "This document (OpenAPI 3.1)", response: { 200: z.looseObject({ openapi: z.string() }) } } },
    async () => (document ??= openApiDocument(options.routes, options.server)),
  );
}

export function openApiDocument(routes: readonly RouteDoc[], server: ServerConfig): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "lf-redshift-sync",
      version: "1.0.0",
      description: "Makes Amazon Redshift grants follow AWS Lake Formation tag-based access control: change webhook, dry-run plan report, run log, health and metrics.",
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: server.webhook.apiKeyHeader },
        basic: { type: "http", scheme: "basic" },
        bearer: { type: "http", scheme: "bearer", description: "server.reportToken (GET /plan and /runs only)" },
      },
    },
  };
}

function operation(route: RouteDoc): Record<string, unknown> {
  const s = route.schema;
  const parameters = [...parametersOf(s.params, "path"), ...parametersOf(s.querystring, "query")];
  return {
    ...(s.summary === undefined ? {} : { summary: s.summary }),
    ...(s.description === undefined ? {} : { description: s.description }),
    ...(route.auth === undefined ? { security: [] } : { security: SECURITY[route.auth] }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(s.body === undefined ? {} : { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(s.body, "input") } } } }),
    responses: responsesOf(s.response),
  };
}

function parametersOf(schema: unknown, where: "path" | "query"): unknown[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, "input");
  const required = new Set((object.required as string[] | undefined) ?? []);
  return Object.entries((object.properties as Record<string, JsonSchema> | undefined) ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    ...(typeof property.description === "string" ? { description: property.description } : {}),
    schema: property,
  }));
}

function responsesOf(response: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, value] of Object.entries((response ?? {}) as Record<string, unknown>)) {
    const content = value instanceof z.ZodType ? { "application/json": { schema: value } } : (value as { content: Record<string, { schema: unknown }> }).content;
    out[status] = {
      description: STATUS_CODES[Number(status)] ?? status,
      content: Object.fromEntries(Object.entries(content).map(([type, media]) => [type, { schema: jsonSchema(media.schema, "output") }])),
    };
  }
  return out;
}

function jsonSchema(schema: unknown, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema as z.ZodType, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}
