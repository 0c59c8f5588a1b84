/**
 * Runs the local Redshift Data API endpoint by hand (`npm run data-api:local`):
 *   tsx test/support/data-api-local.ts [--pg postgres://user@host:port/db] [--port 4566]
 * In-memory PGlite unless --pg is given. Stops on Ctrl-C.
 */
import { parseArgs } from "node:util";
import { startLocalDataApi } from "./data-api-server.js";

const { values } = parseArgs({
  options: { pg: { type: "string" }, port: { type: "string" } },
  strict: true,
});
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a TCP port, got ${values.port}\n`);
  process.exit(1);
}

const api = await startLocalDataApi({ ...(values.pg === undefined ? {} : { pgUrl: values.pg }), port });
process.stdout.write(
  [
    `Local Redshift Data API on ${api.endpoint} (SQL runs on ${values.pg === undefined ? "in-memory PGlite" : "the PostgreSQL at --pg"})`,
    "Any SigV4 credentials are accepted, e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1",
    "Target config:",
    "  target:",
    "    kind: data-api",
    `    endpoint: ${api.endpoint}`,
    "    region: us-east-1",
    "    workgroupName: local",
    "    database: dev",
    "    dialect: postgres",
    "",
  ].join("\n"),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void api.stop().then(() => process.exit(0));
  });
}
