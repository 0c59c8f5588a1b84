/**
 * Runs the local Redshift Data API endpoint by hand (`npm run data-api:local`):
 *   tsx test/support/data-api-local.ts [--pg postgres://user@host:port/db] [--port 4566] [--mode redshift|postgres]
 * In-memory PGlite unless --pg is given; Redshift mode unless --mode postgres. Stops on Ctrl-C.
 */
import { parseArgs } from "node:util";
import { startLocalDataApi } from "./data-api-server.js";

const { values } = parseArgs({
  options: { pg: { type: "string" }, port: { type: "string" }, mode: { type: "string", default: "redshift" } },
  strict: true,
});
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a TCP port, got ${values.port}\n`);
  process.exit(1);
}
const mode = values.mode;
if (mode !== "redshift" && mode !== "postgres") {
  process.stderr.write(`--mode must be redshift or postgres, got ${mode}\n`);
  process.exit(1);
}

const api = await startLocalDataApi({ ...(values.pg === undefined ? {} : { pgUrl: values.pg }), port, mode });
process.stdout.write(
  [
    `Local Redshift Data API on ${api.endpoint} in ${mode} mode (SQL runs on ${values.pg === undefined ? "in-memory PGlite" : "the PostgreSQL at --pg"})`,
    "Any SigV4 credentials are accepted, e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1",
    "Target config:",
    "  target:",
    "    kind: data-api",
    `    endpoint: ${api.endpoint}`,
    "    region: us-east-1",
    "    workgroupName: local",
    "    database: dev",
    `    dialect: ${mode}`,
    "",
  ].join("\n"),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void api.stop().then(() => process.exit(0));
  });
}
