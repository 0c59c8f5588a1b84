import { access, constants } from "node:fs/promises";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { LakeFormationClient, ListLFTagsCommand } from "@aws-sdk/client-lakeformation";
import type { Config } from "../config/schema.js";
import { describeError } from "../errors.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import type { ReadinessCheck } from "./app.js";

const CHECK_TIMEOUT_MS = 3000;

export interface Readiness {
  check(): Promise<readonly ReadinessCheck[]>;
  close(): void;
}

/**
 * GET /readyz: one cheap call per dependency, each with the permission the run itself uses
 * (docs/iam-policy.json), in parallel and bounded in time.
 */
export function createReadiness(config: Config, executor: SqlExecutor): Readiness {
  const source = config.source;
  const lock = config.lock;
  const lakeFormation =
    source.kind === "aws"
      ? new LakeFormationClient({ ...(source.region ? { region: source.region } : {}), ...(source.lakeFormationEndpoint ? { endpoint: source.lakeFormationEndpoint } : {}), maxAttempts: 1 })
      : null;
  const dynamo = lock.kind === "dynamodb" ? new DynamoDBClient({ ...(lock.region ? { region: lock.region } : {}), ...(lock.endpoint ? { endpoint: lock.endpoint } : {}), maxAttempts: 1 }) : null;

  const probes: Record<string, () => Promise<unknown>> = {
    source:
      source.kind === "file"
        ? () => access(source.path, constants.R_OK)
        : () => lakeFormation!.send(new ListLFTagsCommand({ MaxResults: 1, ...(source.catalogId ? { CatalogId: source.catalogId } : {}) })),
    target: () => executor.query("SELECT 1 AS ok"),
    lease:
      lock.kind === "memory"
        ? () => Promise.resolve()
        : () => dynamo!.send(new GetItemCommand({ TableName: lock.table, Key: { lease_key: { S: "readyz-probe" } } })),
  };
  return {
    check: () => Promise.all(Object.entries(probes).map(([name, probe]) => probeResult(name, probe))),
    close() {
      lakeFormation?.destroy();
      dynamo?.destroy();
    },
  };
}

async function probeResult(name: string, probe: () => Promise<unknown>): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { name, ok: true };
  } catch (error) {
    return { name, ok: false, message: describeError(error).slice(0, 500) };
  } finally {
    clearTimeout(timer);
  }
}
