import { type Diagnostic, error } from "../diagnostics.js";

/**
 * Schemas that two or more Glue databases map to: a rename onto another database (also an empty
 * one), two renames onto one schema, or names Redshift folds to one (Sales, sales; aws-facts §6.5).
 * A DATABASE policy on one of them would give CREATE or USAGE on the other's schema too, so none of
 * them grants anything there (their tables: TableObjects). Each is reported once, as an error.
 * `schemaOf` gives a database's schema in the dialect, or null when it is not mapped or not valid.
 */
export function collidingSchemas(databases: readonly string[], schemaOf: (database: string) => string | null, diagnostics: Diagnostic[]): Set<string> {
  const bySchema = new Map<string, string[]>();
  for (const database of databases) {
    const schema = schemaOf(database);
    if (schema === null) continue;
    const list = bySchema.get(schema);
    if (list === undefined) bySchema.set(schema, [database]);
    else list.push(database);
  }
  const colliding = new Set<string>();
  for (const [schema, list] of bySchema) {
    if (list.length < 2) continue;
    colliding.add(schema);
    diagnostics.push(error(`databases ${list.join(", ")} all map to schema ${schema} in the warehouse: their DATABASE policies grant nothing there; give each its own schema (mapping.databases.rename)`));
  }
  return colliding;
}
