import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stderr, so stdout stays clean for `plan --format json`. Secrets never
 * reach a log line: config values are not logged, and these paths are redacted if they ever are.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { service: "lf-redshift-sync", ...bindings },
      redact: { paths: ["*.apiKey", "*.basicPassword", "*.reportToken", "*.secretArn", "*.url", "*.password", "headers.authorization", "headers[\"x-api-key\"]"], censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
