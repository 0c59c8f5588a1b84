import type { PolicyRef } from "../policy-ref.js";
import type { AccessRow } from "./access-rows.js";
import { describeOrigin } from "./tag-origins.js";

/**
 * The access report in JSON, CSV and text, as generators of chunks: at 100k tables the report is
 * hundreds of MB, so no output is ever built as one string. Each policy is listed once and rows
 * refer to it by id (a label can be hundreds of KB).
 */
export function* accessJsonChunks(rows: readonly AccessRow[]): Generator<string> {
  const policies = new Map<string, PolicyRef>();
  for (const r of rows) for (const p of r.policies) policies.set(p.id, p);
  yield `{"summary":${JSON.stringify(accessSummary(rows))},"policies":[`;
  let first = true;
  for (const p of policies.values()) {
    yield (first ? "" : ",") + JSON.stringify(p);
    first = false;
  }
  yield `],"rows":[`;
  first = true;
  for (const r of rows) {
    yield (first ? "\n" : ",\n") + JSON.stringify(jsonRow(r));
    first = false;
  }
  yield "\n]}\n";
}

function jsonRow(r: AccessRow): unknown {
  return {
    grantee: r.grantee,
    schema: r.schema,
    table: r.table,
    privilege: r.privilege,
    columns: r.columns,
    ...(r.allowedColumns === undefined ? {} : { allowedColumns: r.allowedColumns }),
    status: r.status,
    policies: r.policies.map((p) => p.id),
    tags: r.tags,
  };
}

export interface AccessSummary {
  readonly rows: number;
  readonly granted: number;
  readonly pending: number;
  readonly differs: number;
  readonly unexplained: number;
}

export function accessSummary(rows: readonly AccessRow[]): AccessSummary {
  const count = (status: AccessRow["status"]) => rows.filter((r) => r.status === status).length;
  return { rows: rows.length, granted: count("granted"), pending: count("pending"), differs: count("differs"), unexplained: count("unexplained") };
}

const CSV_HEADER = ["grantee_kind", "grantee", "schema", "table", "privilege", "columns", "status", "principals", "policies", "tags"];

/** RFC 4180 CSV; a field a spreadsheet would run as a formula is prefixed with `'` (OWASP CSV injection). */
export function* accessCsvChunks(rows: readonly AccessRow[]): Generator<string> {
  yield CSV_HEADER.join(",") + "\r\n";
  for (const r of rows) {
    const fields = [
      r.grantee.kind,
      r.grantee.name,
      r.schema,
      r.table ?? "",
      r.privilege,
      r.columns === null ? "" : r.columns.join(" "),
      r.status,
      [...new Set(r.policies.map((p) => p.principal))].join(" "),
      r.policies.map((p) => `${p.id}: ${p.expression}`).join("; "),
      r.tags.map(describeOrigin).join("; "),
    ];
    yield fields.map(csvField).join(",") + "\r\n";
  }
}

export function csvField(value: string): string {
  const defused = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

/** `sales.orders(id,amount)`, `sales` for a schema. */
export function objectLabel(r: Pick<AccessRow, "schema" | "table" | "columns">): string {
  const table = r.table === null ? "" : `.${r.table}`;
  return `${r.schema}${table}${r.columns === null ? "" : `(${r.columns.join(",")})`}`;
}
