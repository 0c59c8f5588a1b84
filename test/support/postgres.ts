import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll } from "vitest";
import { createPostgresExecutor, pgliteExecutor, type PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { postgresBinaries } from "./postgres-binaries.js";

const run = promisify(execFile);

export interface RunningPostgres {
  /** Superuser URL of the `postgres` database. */
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** initdb refuses to run as root (CI runs as root): the server then runs as `nobody`. */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("nobody:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) throw new Error("running as root, and /etc/passwd has no user nobody to run PostgreSQL as");
  return { uid: Number(uid), gid: Number(gid) };
}

async function waitUntilAccepting(url: string, deadline: number): Promise<void> {
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections at ${url}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * Starts a real, throw-away PostgreSQL server: temp data dir, 127.0.0.1 on a free port, unix socket
 * inside the temp dir. `stop()` shuts it down and removes the dir.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const binaries = await postgresBinaries();
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), "lfsync-pg-"));
  const dataDir = join(dir, "data");
  const exec = async (command: "initdb" | "pg_ctl", args: readonly string[]): Promise<void> => {
    try {
      await run(command === "initdb" ? binaries.initdb : binaries.pgCtl, args, { timeout: 120_000, cwd: dir, ...(user ?? {}) });
    } catch (error) {
      const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
      throw new Error(`${command} failed: ${stderr}${stdout}`, { cause: error });
    }
  };
  try {
    if (user !== null) await chown(dir, user.uid, user.gid);
    await exec("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
    // Another process may take the port between freePort() and the bind: retry with a new one.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        await exec("pg_ctl", ["-D", dataDir, "-l", join(dir, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
      } catch (error) {
        if (attempt < 3) continue;
        throw error;
      }
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      await waitUntilAccepting(url, Date.now() + 30_000);
      return {
        url,
        async stop() {
          // Smart first: it waits for clients still closing (a pool's sockets can outlive its end()),
          // which a fast stop would end with 57P01, an 'error' event nobody listens to any more.
          // A client left open for good gets the fast stop after 5 s.
          await exec("pg_ctl", ["-D", dataDir, "-m", "smart", "-w", "-t", "5", "stop"]).catch(() => {
            process.stderr.write(`test PostgreSQL server ${url}: a client was still connected 5 s after stop; stopping fast\n`);
            return exec("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "stop"]);
          });
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (error) {
    await exec("pg_ctl", ["-D", dataDir, "-m", "immediate", "stop"]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A fresh database on the server of `url`; returns its URL. Dropped with the server. */
export async function createTestDatabase(url: string): Promise<string> {
  const name = `test_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}

export interface ExecutorBackend {
  readonly name: string;
  /** A fresh, empty database behind a new executor; the caller closes it. */
  open(): Promise<PostgresExecutor>;
}

/**
 * The two PostgreSQL backends every target test runs on: PGlite in-process and a real server
 * (started on first use, stopped by this file's afterAll). Call at the top level of a test file.
 */
export function executorBackends(): readonly ExecutorBackend[] {
  let server: Promise<RunningPostgres> | undefined;
  // Starting PGlite costs seconds; a clone of a started instance is a fresh database for much less.
  let pglite: Promise<PGlite> | undefined;
  afterAll(async () => {
    if (server !== undefined) await (await server).stop();
    if (pglite !== undefined) await (await pglite).close();
  });
  return [
    {
      name: "PGlite",
      async open() {
        pglite ??= PGlite.create();
        return pgliteExecutor(await (await pglite).clone());
      },
    },
    {
      name: "PostgreSQL server",
      async open() {
        server ??= startPostgres();
        return createPostgresExecutor(await createTestDatabase((await server).url));
      },
    },
  ];
}
