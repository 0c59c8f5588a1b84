/**
 * The awsJson1_1 wire of the Redshift Data API (aws-facts §5): `POST /` with
 * `X-Amz-Target: RedshiftData.<Operation>`, JSON bodies, errors as `{__type, message}` with the
 * modeled HTTP status (§5.4).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

export class ApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const validation = (message: string): ApiError => new ApiError("ValidationException", 400, message);

export function notFound(message: string, resourceId: string): ApiError {
  return new ApiError("ResourceNotFoundException", 404, message, { ResourceId: resourceId });
}

/** The operation named by `X-Amz-Target`, or "" when there is none. */
export function operationOf(req: IncomingMessage): string {
  return /^RedshiftData\.(\w+)$/.exec(String(req.headers["x-amz-target"] ?? ""))?.[1] ?? "";
}

/** Requests the service refuses before looking at the operation: wrong path, no SigV4. */
export function checkRequest(req: IncomingMessage): void {
  if (req.method !== "POST" || (req.url ?? "/") !== "/") throw new ApiError("UnknownOperationException", 404, "POST / only");
  if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) {
    throw new ApiError("MissingAuthenticationTokenException", 403, "Missing Authentication Token");
  }
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body === "" ? "{}" : body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ApiError("SerializationException", 400, messageOf(error));
  }
  throw new ApiError("SerializationException", 400, "body must be a JSON object");
}

/** Sends a JSON 1.1 answer; returns the bytes of the body. */
export function send(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body, jsonSafe);
  const bytes = Buffer.byteLength(text);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": bytes,
    "x-amzn-requestid": randomUUID(),
  });
  res.end(text);
  return bytes;
}

export function sendError(res: ServerResponse, error: unknown): number {
  const failure = error instanceof ApiError ? error : new ApiError("InternalServerException", 500, messageOf(error));
  return send(res, failure.status, { __type: failure.type, message: failure.message, Message: failure.message, ...failure.extra });
}

export function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** NextToken: an opaque base64 offset. */
export function offsetToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString("base64");
}

export function decodeToken(token: unknown): number {
  const match = typeof token === "string" ? /^offset:(\d+)$/.exec(Buffer.from(token, "base64").toString()) : null;
  if (match === null) throw validation("Invalid NextToken");
  return Number(match[1]);
}

/** Timestamps travel as epoch seconds. */
export function seconds(ms: number): number {
  return ms / 1000;
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
