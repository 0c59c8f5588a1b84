import { readFileSync } from "node:fs";

/** Just enough of the Dockerfile grammar for the tests to read what the image runs, without Docker. */

export interface Instruction {
  readonly keyword: string;
  /** The arguments as written, continuation lines joined. */
  readonly args: string;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

export function readDockerfile(path: string): readonly Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const trimmed = line.trim();
    if (pending === "" && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (trimmed.endsWith("\\")) {
      pending += `${trimmed.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${trimmed}`);
    pending = "";
  }
  const stages: { name: string; base: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === "FROM") {
      const [, base = "", name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name: name ?? String(stages.length), base, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** `["node", "x"]` -> the array; the shell form is refused (signals would not reach node). */
export function execForm(args: string): readonly string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`not an exec-form array: ${args}`);
  return parsed;
}

export function instructionsOf(stage: Stage, keyword: string): readonly string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** `ENV A=1 B=2` lines of a stage (values without spaces or quotes, which is all this Dockerfile uses). */
export function envOf(stage: Stage): Readonly<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const args of instructionsOf(stage, "ENV")) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf("=");
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** `HEALTHCHECK [--options] CMD [...]` -> the command array. */
export function healthcheckCommand(stage: Stage): readonly string[] {
  const [args] = instructionsOf(stage, "HEALTHCHECK");
  const cmd = args === undefined ? null : /\bCMD\s+(\[.*\])$/.exec(args);
  if (cmd === null || cmd[1] === undefined) throw new Error("no HEALTHCHECK CMD [...] in the runtime stage");
  return execForm(cmd[1]);
}

/** `COPY [--from=x] [--chown=..] src... dest`: sources and destination, with the stage it copies from (null = build context). */
export function copiesOf(stage: Stage): readonly { readonly from: string | null; readonly sources: readonly string[]; readonly dest: string }[] {
  return instructionsOf(stage, "COPY").map((args) => {
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith("--"));
    const paths = words.filter((w) => !w.startsWith("--"));
    const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length) ?? null;
    return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? "" };
  });
}
