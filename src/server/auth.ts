import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { ServerConfig } from "../config/schema.js";

/**
 * Credential checks. Secrets are compared as sha256 digests with timingSafeEqual: equal lengths
 * whatever the input, so neither the content nor the length of a secret leaks through timing.
 */
export function secretEquals(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

type WebhookCredentials = ServerConfig["webhook"];

/** Whether any webhook credential is configured; without one every request is refused. */
export function hasWebhookCredentials(webhook: WebhookCredentials): boolean {
  return webhook.apiKey !== undefined || (webhook.basicUser !== undefined && webhook.basicPassword !== undefined);
}

/** The EventBridge connection's API-key header, or basic auth (aws-facts §4.3). */
export function isWebhookAuthorized(headers: IncomingHttpHeaders, webhook: WebhookCredentials): boolean {
  const key = headerValue(headers[webhook.apiKeyHeader.toLowerCase()]);
  if (webhook.apiKey !== undefined && key !== undefined && secretEquals(key, webhook.apiKey)) return true;
  if (webhook.basicUser === undefined || webhook.basicPassword === undefined) return false;
  const basic = basicCredentials(headers.authorization);
  if (basic === null) return false;
  // Both compared every time: which half was wrong must not show in the timing.
  const user = secretEquals(basic.user, webhook.basicUser);
  const password = secretEquals(basic.password, webhook.basicPassword);
  return user && password;
}

/**
 * The report's own bearer token, and nothing else: the webhook's credentials live in the EventBridge
 * connection, and whoever can read that secret must not read the access map (issue 13 item 13).
 */
export function isReportAuthorized(headers: IncomingHttpHeaders, server: Pick<ServerConfig, "reportToken">): boolean {
  const token = bearerToken(headers.authorization);
  return server.reportToken !== undefined && token !== null && secretEquals(token, server.reportToken);
}

export function hasReportCredentials(server: Pick<ServerConfig, "reportToken">): boolean {
  return server.reportToken !== undefined;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function basicCredentials(authorization: string | undefined): { user: string; password: string } | null {
  const match = authorization === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (match === null) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function bearerToken(authorization: string | undefined): string | null {
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match === null ? null : match[1]!;
}
