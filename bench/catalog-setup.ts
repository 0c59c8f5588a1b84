/**
 * The bench catalog as tables on a PostgreSQL server: one CREATE SCHEMA per database, one CREATE
 * TABLE per table, grantees as NOLOGIN roles, run in chunks (one query is one transaction, and 10k
 * CREATE TABLEs in one overflow the lock table).
 */
import pg from "pg";
import type { CatalogSnapshot } from "../src/catalog/model.js";
import { qualifiedName, quoteIdent } from "../src/core/sql.js";

const CHUNK = 500;

/** CREATE ROLE for each PostgreSQL role name (the caller names a Redshift group's role, see data-api.ts). */
export function roleScript(roles: readonly string[]): string[] {
  return roles.map((role) => `CREATE ROLE ${quoteIdent(role)} NOLOGIN;`);
}

/** CREATE SCHEMA and CREATE TABLE for the whole catalog, every column of `columnType`. */
export function tableScript(snapshot: CatalogSnapshot, columnType: string): string[] {
  const script: string[] = [];
  for (const db of snapshot.databases) {
    script.push(`CREATE SCHEMA ${quoteIdent(db.name)};`);
    for (const t of db.tables) script.push(`CREATE TABLE ${qualifiedName(db.name, t.name)} (${t.columns.map((c) => `${quoteIdent(c.name)} ${columnType}`).join(", ")});`);
  }
  return script;
}

export async function runScript(url: string, script: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < script.length; i += CHUNK) await client.query(script.slice(i, i + CHUNK).join("\n"));
  } finally {
    await client.end();
  }
}
