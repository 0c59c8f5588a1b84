import { type Diagnostic, error } from "../diagnostics.js";
import { type Dialect, tableKey } from "../grants.js";
import type { Entitlements } from "../resolve/entitlements.js";

/**
 * Redshift objects that two different Glue objects land on: a rename onto another database (or two
 * renames onto one schema), or names that fold to one (Redshift lower-cases ASCII, aws-facts §6.5).
 * Their grants would merge, and a grantee Lake Formation allows on one would hold the other: the
 * mapper grants nothing there, so a grant recorded there before is revoked by the plan.
 */
export interface Collisions {
  /** Schemas that two or more Glue databases map to: no grant there from a DATABASE policy. */
  readonly schemas: ReadonlySet<string>;
  /** Per table id: 1 when another Glue table maps to the same Redshift table (no grant on it). */
  readonly tables: Uint8Array;
}

/**
 * Every collision of the catalog, each reported once as an error. `schemaOf` and `tableOf` give the
 * dialect's name of a Glue database or table (null: not mapped or not a valid name). One Map over the
 * tables, keyed by their Redshift names: linear in the catalog (DESIGN §6).
 */
export function findCollisions(
  entitlements: Pick<Entitlements, "databaseNames" | "tables">,
  schemaOf: (database: string) => string | null,
  tableOf: (table: string) => string | null,
  dialect: Dialect,
  diagnostics: Diagnostic[],
): Collisions {
  const schemas = collidingSchemas(entitlements.databaseNames, schemaOf, dialect, diagnostics);
  const tables = new Uint8Array(entitlements.tables.length);
  const first = new Map<string, number>();
  const collided = new Map<string, { readonly name: string; readonly ids: number[] }>();
  let database: string | undefined;
  let schema: string | null = null;
  entitlements.tables.forEach((info, id) => {
    // Tables come in catalog order, database by database: one schema look-up per database.
    if (info.database !== database) schema = schemaOf((database = info.database));
    const table = schema === null ? null : tableOf(info.table);
    if (schema === null || table === null) return;
    const key = tableKey(schema, table);
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, id);
      return;
    }
    tables[earlier] = 1;
    tables[id] = 1;
    const entry = collided.get(key);
    if (entry === undefined) collided.set(key, { name: `${schema}.${table}`, ids: [earlier, id] });
    else entry.ids.push(id);
  });
  for (const { name, ids } of collided.values()) {
    const glue = ids.map((id) => `${entitlements.tables[id]!.database}.${entitlements.tables[id]!.table}`).join(", ");
    diagnostics.push(error(`Glue tables ${glue} map to one ${dialect} table ${name}: nothing granted on it (a grantee Lake Formation allows on one would hold the others)`));
  }
  return { schemas, tables };
}

function collidingSchemas(databases: readonly string[], schemaOf: (database: string) => string | null, dialect: Dialect, diagnostics: Diagnostic[]): Set<string> {
  const bySchema = new Map<string, string[]>();
  for (const database of databases) {
    const schema = schemaOf(database);
    if (schema === null) continue;
    const list = bySchema.get(schema);
    if (list === undefined) bySchema.set(schema, [database]);
    else list.push(database);
  }
  const schemas = new Set<string>();
  for (const [schema, list] of bySchema) {
    if (list.length < 2) continue;
    schemas.add(schema);
    diagnostics.push(
      error(`Glue databases ${list.join(", ")} map to one ${dialect} schema ${schema}: no grant on it from their DATABASE policies, none on a table two of them hold (check mapping.databases.rename)`),
    );
  }
  return schemas;
}
