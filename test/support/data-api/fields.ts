/** Field union per column type (aws-facts §5.1: integers -> long, floats -> double, DECIMAL -> string). */
import { jsonSafe } from "./protocol.js";

const LONG_TYPES = new Set([20, 21, 23, 26, 28]);
const DOUBLE_TYPES = new Set([700, 701]);
const BOOL_TYPE = 16;
export const BYTEA_TYPE = 17;
const TYPE_NAMES: Readonly<Record<number, string>> = {
  16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text", 26: "oid",
  700: "float4", 701: "float8", 1042: "bpchar", 1043: "varchar", 1082: "date", 1083: "time", 1114: "timestamp",
  1184: "timestamptz", 1700: "numeric",
};
/** PGlite parses these into Dates/objects; keep PostgreSQL's text form, as Redshift sends it. */
export const TEXT_PARSERS = Object.fromEntries([1082, 1083, 1114, 1184, 1186, 1266, 114, 3802].map((oid) => [oid, (v: string) => v]));

export type Field = Record<string, unknown>;

export function encodeField(value: unknown, typeId: number): Field {
  if (value === null || value === undefined) return { isNull: true };
  if (LONG_TYPES.has(typeId)) return { longValue: Number(value) };
  if (DOUBLE_TYPES.has(typeId)) return { doubleValue: Number(value) };
  if (typeId === BOOL_TYPE) return { booleanValue: value === true || value === "t" || value === "true" };
  if (typeId === BYTEA_TYPE) {
    const bytes = value instanceof Uint8Array ? value : Buffer.from(String(value).replace(/^\\x/, ""), "hex");
    return { blobValue: Buffer.from(bytes).toString("base64") };
  }
  if (typeof value === "string") return { stringValue: value };
  if (value instanceof Date) return { stringValue: value.toISOString() };
  return { stringValue: typeof value === "object" ? JSON.stringify(value, jsonSafe) : String(value) };
}

export function typeName(typeId: number): string {
  return TYPE_NAMES[typeId] ?? `oid:${typeId}`;
}
