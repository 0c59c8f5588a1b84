/** Runs one bench/phase.ts phase in its own process (its own peak RSS) and returns its JSON line. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export type Result = Record<string, unknown> & { ms?: number; maxRssMb: number };

/** Each phase runs with a 1 GB heap, the DESIGN §6 limit: a phase whose live set exceeds it fails. */
export async function phase(name: string, ...args: string[]): Promise<Result> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/phase.ts", name, ...args], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=1024" } });
  const line = stdout.trim().split("\n").pop()!;
  return JSON.parse(line) as Result;
}

/** The synthetic catalog of every bench: 20 databases, 20 columns a table, 500 policies, 200 principals. */
export const catalogOptions = (tables: number) => ({ tables, databases: 20, columnsPerTable: 20, policies: 500, principals: 200 });
