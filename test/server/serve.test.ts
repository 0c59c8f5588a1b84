import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudTrailEvent, postEvent, waitFor } from "./harness.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const API_KEY = "serve-test-key";
const REPORT_TOKEN = "serve-test-report-token";

/**
 * `lf-redshift-sync serve` as a real process: the CLI wires config -> source, PGlite target, lock,
 * app; listens; runs the in-process schedule; and exits 0 on SIGTERM.
 */
describe("serve command", () => {
  let dir: string;
  let child: ChildProcess;
  let stderr = "";
  let url = "";
  let exit: Promise<number | null>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lfsync-serve-"));
    await writeFile(join(dir, "catalog.yaml"), "databases:\n  - name: sales\n    tables:\n      - name: orders\n        columns: [{ name: id }]\npolicies: []\n");
    await writeFile(
      join(dir, "config.yaml"),
      [
        "source: { kind: file, path: catalog.yaml }",
        "target: { kind: pglite }",
        "server: { host: 127.0.0.1, port: 0, debounceMs: 0, webhook: { apiKey: env:LFSYNC_TEST_KEY }, reportToken: env:LFSYNC_TEST_REPORT }",
        "schedule: { every: 1h }",
        "logLevel: info",
      ].join("\n"),
    );
    child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli.ts"), "serve", "--config", join(dir, "config.yaml")], {
      cwd: ROOT,
      env: { ...process.env, LFSYNC_TEST_KEY: API_KEY, LFSYNC_TEST_REPORT: REPORT_TOKEN },
      stdio: ["ignore", "pipe", "pipe"],
    });
    exit = new Promise((done) => child.once("exit", (code) => done(code)));
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    await waitFor(() => {
      const line = stderr.split("\n").find((l) => l.includes('"msg":"listening"'));
      if (line !== undefined) url = (JSON.parse(line) as { url: string }).url;
      return url !== "" || child.exitCode !== null;
    }, 90_000); // tsx compiles the CLI on start: under a loaded CI machine this alone took a minute
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("serves, runs on start (schedule) and on an event, and exits 0 on SIGTERM", async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const runs = async () => ((await (await fetch(`${url}/runs`, { headers: { authorization: `Bearer ${REPORT_TOKEN}` } })).json()) as { runs: { command: string; status: string }[] }).runs;
    // A run's row is written when it starts (status running) and finished when it ends: wait for the end.
    const settled = async (n: number) => {
      const list = await runs();
      return list.length === n && list.every((r) => r.status !== "running");
    };
    await waitFor(() => settled(1), 20_000);
    expect(await runs()).toMatchObject([{ command: "schedule", status: "succeeded" }]);

    const response = await postEvent(url, cloudTrailEvent("CreateTable", { source: "aws.glue" }), { "x-api-key": API_KEY });
    expect(response.status).toBe(202);
    await waitFor(() => settled(2), 20_000);
    expect((await runs())[0]).toMatchObject({ command: "webhook", status: "succeeded" });

    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(stderr).toContain('"msg":"stopped"');
    expect(stderr).not.toContain(API_KEY);
    expect(stderr).not.toContain(REPORT_TOKEN);
  });
});
