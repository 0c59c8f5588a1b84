import { describe, expect, it } from "vitest";
import { serverSchema } from "../../src/config/schema.js";
import { hasReportCredentials, hasWebhookCredentials, isReportAuthorized, isWebhookAuthorized, secretEquals } from "../../src/server/auth.js";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("credentials", () => {
  const server = serverSchema.parse({ webhook: { apiKeyHeader: "X-Lfsync-Key", apiKey: "k1", basicUser: "u", basicPassword: "p:w" }, reportToken: "t1" });

  it("compares secrets of any length without throwing", () => {
    expect(secretEquals("abc", "abc")).toBe(true);
    expect(secretEquals("abc", "abcd")).toBe(false);
    expect(secretEquals("", "abc")).toBe(false);
    expect(secretEquals("é", "é")).toBe(true);
  });

  it.each([
    [{ "x-lfsync-key": "k1" }, true],
    [{ "x-lfsync-key": "k2" }, false],
    [{ "x-api-key": "k1" }, false],
    [{ authorization: basic("u", "p:w") }, true],
    [{ authorization: basic("u", "p") }, false],
    [{ authorization: basic("x", "p:w") }, false],
    [{ authorization: "Basic !!!" }, false],
    [{ authorization: "Bearer t1" }, false],
    [{}, false],
  ])("webhook %j -> %s", (headers, ok) => {
    expect(isWebhookAuthorized(headers, server.webhook)).toBe(ok);
  });

  it.each([
    [{ authorization: "Bearer t1" }, true],
    [{ authorization: "bearer t1" }, true],
    [{ authorization: "Bearer t2" }, false],
    [{ authorization: "Bearer k1" }, false],
    // Never the webhook's credentials: the EventBridge connection secret must not read the access map.
    [{ "x-lfsync-key": "k1" }, false],
    [{ authorization: basic("u", "p:w") }, false],
    [{}, false],
  ])("report %j -> %s", (headers, ok) => {
    expect(isReportAuthorized(headers, server)).toBe(ok);
  });

  it("refuses every report request when only webhook credentials are configured", () => {
    const webhookOnly = serverSchema.parse({ webhook: { apiKey: "k1", basicUser: "u", basicPassword: "p" } });
    expect(hasReportCredentials(webhookOnly)).toBe(false);
    expect(isReportAuthorized({ "x-api-key": "k1" }, webhookOnly)).toBe(false);
    expect(isReportAuthorized({ authorization: basic("u", "p") }, webhookOnly)).toBe(false);
    expect(isReportAuthorized({ authorization: "Bearer k1" }, webhookOnly)).toBe(false);
  });

  it("needs both basic user and password to count as configured", () => {
    expect(hasWebhookCredentials(serverSchema.parse({ webhook: { basicUser: "u" } }).webhook)).toBe(false);
    expect(isWebhookAuthorized({ authorization: basic("u", "") }, serverSchema.parse({ webhook: { basicUser: "u" } }).webhook)).toBe(false);
  });
});
