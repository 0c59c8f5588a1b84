import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createBrotliDecompress } from "node:zlib";
import { type Browser, chromium } from "playwright-core";

/**
 * A real headless Chromium for browser tests, on any machine `npm ci` ran on:
 * - CHROMIUM_PATH, or a Chrome/Chromium installed on the system, when there is one;
 * - else the Chromium that the dev dependency @sparticuz/chromium ships inside its npm package
 *   (Linux x64/arm64, brotli-packed), unpacked once per machine into a temp directory. The
 *   shared libraries it needs that a bare Linux may lack (NSS, NSPR, expat) come from the same
 *   package and are used only when the system has none.
 */

const SYSTEM_BROWSERS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
];

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface BrowserBinary {
  readonly executablePath: string;
  /** Where it came from, for test names and error messages. */
  readonly origin: "CHROMIUM_PATH" | "system" | "@sparticuz/chromium";
  readonly env: Readonly<Record<string, string>>;
}

/** Launches headless Chromium; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  const binary = await findChromium();
  return chromium.launch({ executablePath: binary.executablePath, headless: true, args: ARGS, env: { ...process.env, ...binary.env } });
}

export async function findChromium(): Promise<BrowserBinary> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return { executablePath: fromEnv, origin: "CHROMIUM_PATH", env: {} };
  }
  const system = SYSTEM_BROWSERS.find((path) => existsSync(path));
  if (system !== undefined) return { executablePath: system, origin: "system", env: {} };
  return packagedChromium();
}

let staged: Promise<BrowserBinary> | undefined;

/** The Chromium of @sparticuz/chromium, unpacked once per machine and version (safe when test files race). */
export function packagedChromium(): Promise<BrowserBinary> {
  staged ??= stagePackagedChromium();
  return staged;
}

function packageBin(): { bin: string; version: string } {
  if (platform() !== "linux") throw new Error(`no Chrome or Chromium found (set CHROMIUM_PATH); @sparticuz/chromium ships Linux builds only, this is ${platform()}`);
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  } catch (error) {
    throw new Error("no Chrome or Chromium found, and @sparticuz/chromium is not installed: run npm ci, or set CHROMIUM_PATH", { cause: error });
  }
  // build/cjs/index.cjs -> the package root, which holds package.json and bin/.
  const root = dirname(dirname(dirname(entry)));
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return { bin: join(root, "bin"), version };
}

async function stagePackagedChromium(): Promise<BrowserBinary> {
  const { bin, version } = packageBin();
  const home = join(tmpdir(), `lfsync-chromium-${version}-${arch()}`);
  if (!existsSync(join(home, ".ready"))) {
    const scratch = `${home}.${process.pid}.${randomBytes(4).toString("hex")}`;
    try {
      await mkdir(join(scratch, "al2023"), { recursive: true });
      await pipeline(createReadStream(join(bin, "chromium.br")), createBrotliDecompress(), createWriteStream(join(scratch, "chromium"), { mode: 0o755 }));
      await untarBrotli(join(bin, "swiftshader.tar.br"), scratch);
      await untarBrotli(join(bin, "fonts.tar.br"), scratch);
      await untarBrotli(join(bin, "al2023.tar.br"), join(scratch, "al2023"));
      // The package's fonts.conf points at /tmp/fonts (AWS Lambda's layout): point it at ours.
      await writeFile(join(scratch, "fonts.conf"), fontsConf(home));
      await writeFile(join(scratch, ".ready"), `@sparticuz/chromium@${version}\n`);
      await rename(scratch, home);
    } catch (error) {
      // Another process unpacked it first (rename onto a non-empty directory fails): use theirs.
      if (!existsSync(join(home, ".ready"))) throw new Error(`could not unpack @sparticuz/chromium into ${home}`, { cause: error });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const executablePath = join(home, "chromium");
  const env: Record<string, string> = { FONTCONFIG_PATH: home };
  if (await missesSharedLibraries(executablePath)) {
    env.LD_LIBRARY_PATH = [join(home, "al2023", "lib"), process.env.LD_LIBRARY_PATH].filter((p) => p !== undefined && p !== "").join(":");
  }
  return { executablePath, origin: "@sparticuz/chromium", env };
}

function fontsConf(home: string): string {
  return `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(home, "fonts")}</dir>\n  <cachedir>${join(home, "fonts-cache")}</cachedir>\n</fontconfig>\n`;
}

/** Unpacks a .tar.br with the system's tar (tar may stop reading before the archive's padding, so not through a pipe). */
async function untarBrotli(archive: string, into: string): Promise<void> {
  const tarFile = join(into, `${basename(archive, ".br")}.partial`);
  await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(tarFile));
  try {
    await promisify(execFile)("tar", ["-x", "-f", tarFile, "-C", into]);
  } finally {
    await rm(tarFile, { force: true });
  }
}

/** True when the dynamic loader cannot find a library the binary needs (or ldd is not there to say). */
async function missesSharedLibraries(executable: string): Promise<boolean> {
  try {
    const { stdout } = await promisify(execFile)("ldd", [executable]);
    return stdout.includes("not found");
  } catch {
    return true;
  }
}
