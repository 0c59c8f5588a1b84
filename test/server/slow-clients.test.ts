import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { API_KEY, cloudTrailEvent, type Harness, openTestDatabase, postEvent, startHarness, waitFor } from "./harness.js";

/**
 * Issue 13 item 6: slow clients. Unauthenticated POSTs whose body trickles in must not hold sockets
 * after their 401, an authenticated slow body is cut off by requestTimeout, and shutdown neither
 * waits on such sockets nor on a run stuck past server.shutdownGraceMs.
 */
interface SlowPost {
  readonly socket: Socket;
  /** Everything the server sent. */
  readonly received: () => string;
  readonly closed: () => boolean;
}

function slowPost(url: string, headers: Record<string, string>): Promise<SlowPost> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = [
        "POST /webhooks/lakeformation HTTP/1.1",
        `Host: ${hostname}`,
        "Content-Type: application/json",
        "Content-Length: 100000",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join("\r\n")}\r\n\r\n{"a":`); // and then nothing more
      resolve({ socket, received: () => data, closed: () => closed });
    });
    let data = "";
    let closed = false;
    socket.on("data", (chunk) => (data += chunk.toString("utf8")));
    socket.on("close", () => (closed = true));
    socket.on("error", () => undefined);
    socket.once("error", reject);
  });
}

describe("slow clients", () => {
  let db: PostgresExecutor;
  let h: Harness;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await h?.close();
    await db.close();
  });

  it("closes the connection right after a 401, though the body never arrived", async () => {
    h = await startHarness({ executor: db, server: { requestTimeoutMs: 60_000, connectionTimeoutMs: 60_000 } });
    const posts = await Promise.all(Array.from({ length: 20 }, () => slowPost(h.url, {})));
    sockets.push(...posts.map((p) => p.socket));
    await waitFor(() => posts.every((p) => p.closed()), 5_000);
    for (const post of posts) {
      expect(post.received()).toMatch(/^HTTP\/1\.1 401 /);
      expect(post.received().toLowerCase()).toContain("connection: close");
    }
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    await h.close();
  });

  it("cuts off an authenticated body that trickles in longer than server.requestTimeoutMs", async () => {
    h = await startHarness({ executor: db, server: { requestTimeoutMs: 1000, connectionTimeoutMs: 60_000 } });
    const post = await slowPost(h.url, { "x-api-key": API_KEY });
    sockets.push(post.socket);
    await waitFor(() => post.closed(), 10_000);
    expect(post.received()).toMatch(/^(HTTP\/1\.1 408 |$)/);
    await h.close();
  });

  it("stops promptly on close with slow sockets open and a run stuck past server.shutdownGraceMs", async () => {
    h = await startHarness({ executor: db, debounceMs: 0, server: { shutdownGraceMs: 1000, requestTimeoutMs: 60_000 } });
    const posts = await Promise.all(Array.from({ length: 5 }, () => slowPost(h.url, { "x-api-key": API_KEY })));
    sockets.push(...posts.map((p) => p.socket));
    h.faults.batchDelayMs = 12_000;
    await postEvent(h.url, cloudTrailEvent("GrantPermissions", { id: "stuck" }));
    await waitFor(() => h.faults.batchesStarted >= 1);
    const started = Date.now();
    await h.app.close();
    // Well under the stuck batch (12 s) and the request timeout (60 s): shutdown does not wait on either.
    expect(Date.now() - started).toBeLessThan(6_000);
    await waitFor(() => posts.every((p) => p.closed()), 2_000);
    // The stuck run still ends on its own (its batch is bounded by the target) and stops before the next batch.
    h.faults.batchDelayMs = 0;
    await waitFor(() => h.runs.length === 1, 30_000);
    expect(h.runs[0]!.status).toBe("failed");
  });
});
