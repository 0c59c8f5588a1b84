import type { Dialect, Grantee, Privilege } from "../../core/grants.js";
import { byteLength, quoteLiteral } from "../../core/sql.js";
import { boundedStatements } from "./sql.js";
import { tableToken } from "./table-lists.js";

/**
 * Taking slots out of grant_slots rows without reading them (the state store renders a batch's SQL
 * before it runs, in the batch's transaction). A table slot is one name in the `tables` text of the
 * rows of its grantee, schema, privilege and form: an UPDATE cuts the name out with REPLACE (exact:
 * table-lists.ts), then a DELETE drops the rows left with no table. The other slots of those rows
 * stay as they were; a batch that rolls back leaves every row as it found it.
 */

export interface TableRemoval {
  readonly grantee: Grantee;
  readonly schema: string;
  readonly privilege: Privilege;
  /** The column form (rows with a column list) or the whole-table form. */
  readonly columns: boolean;
  readonly table: string;
}

export interface SchemaRemoval {
  readonly grantee: Grantee;
  readonly schema: string;
  readonly privilege: Privilege;
}

export interface RemovalKeys {
  readonly tables: TableRemoval[];
  readonly schemas: SchemaRemoval[];
}

/**
 * Names cut out by one CASE branch: a REPLACE per name, nested. Bounded so that no engine meets a
 * deep expression (Redshift documents no nesting limit; PostgreSQL's depth is bounded by its stack).
 */
const MAX_NAMES_PER_BRANCH = 100;

/** The rows of one grantee, schema, privilege and form, and the names to cut out of them. */
interface Branch {
  readonly rows: string;
  readonly tokens: string[];
  /** About what the branch adds to an UPDATE: its rows twice, each name twice. */
  bytes: number;
}

function rowsOf(removal: SchemaRemoval, dialect: Dialect): string {
  const { grantee, schema, privilege } = removal;
  return `grantee_kind = ${quoteLiteral(grantee.kind, dialect)} AND grantee = ${quoteLiteral(grantee.name, dialect)} AND schema_name = ${quoteLiteral(schema, dialect)} AND privilege = ${quoteLiteral(privilege, dialect)}`;
}

/**
 * The branches of the UPDATEs, in rounds: a key's names beyond a branch's bound go to the next
 * round, so that no UPDATE has two branches of one key (CASE takes the first that matches).
 */
function branchRounds(removals: readonly TableRemoval[], dialect: Dialect, maxBranchBytes: number): Branch[][] {
  const byKey = new Map<string, Branch[]>();
  for (const removal of removals) {
    const key = JSON.stringify([removal.grantee.kind, removal.grantee.name, removal.schema, removal.privilege, removal.columns]);
    let branches = byKey.get(key);
    const rows = `${rowsOf(removal, dialect)} AND columns IS ${removal.columns ? "NOT " : ""}NULL`;
    if (branches === undefined) byKey.set(key, (branches = [{ rows, tokens: [], bytes: 2 * byteLength(rows) }]));
    let last = branches[branches.length - 1]!;
    const token = quoteLiteral(tableToken(removal.table), dialect);
    const bytes = 2 * byteLength(token) + 40;
    if (last.tokens.length >= MAX_NAMES_PER_BRANCH || (last.tokens.length > 0 && last.bytes + bytes > maxBranchBytes)) {
      branches.push((last = { rows, tokens: [], bytes: 2 * byteLength(rows) }));
    }
    last.tokens.push(token);
    last.bytes += bytes;
  }
  const rounds: Branch[][] = [];
  for (const branches of byKey.values()) {
    for (const [round, branch] of branches.entries()) (rounds[round] ??= []).push(branch);
  }
  return rounds;
}

/** UPDATEs cutting the names out, each within `maxBytes`. */
function updateStatements(table: string, rounds: readonly Branch[][], maxBytes: number): string[] {
  const statements: string[] = [];
  for (const branches of rounds) {
    let whens: string[] = [];
    let wheres: string[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (whens.length > 0) statements.push(`UPDATE ${table} SET tables = CASE ${whens.join(" ")} ELSE tables END WHERE ${wheres.join(" OR ")}`);
      whens = [];
      wheres = [];
      bytes = 0;
    };
    for (const { rows, tokens } of branches) {
      const cut = tokens.reduce((text, token) => `REPLACE(${text}, ${token}, '')`, "tables");
      const when = `WHEN ${rows} THEN ${cut}`;
      const where = `(${rows} AND (${tokens.map((token) => `POSITION(${token} IN tables) > 0`).join(" OR ")}))`;
      const size = byteLength(when) + byteLength(where) + 5;
      if (whens.length > 0 && bytes + size + 100 + byteLength(table) > maxBytes) flush();
      whens.push(when);
      wheres.push(where);
      bytes += size;
    }
    flush();
  }
  return statements;
}

/**
 * The statements taking the slots out: UPDATEs for table slots, then one DELETE (split when long)
 * of the schema-level rows and of every row the UPDATEs left with no table.
 */
export function removalStatements(table: string, keys: RemovalKeys, dialect: Dialect, maxBytes: number): string[] {
  const updates = updateStatements(table, branchRounds(keys.tables, dialect, Math.floor(maxBytes / 2)), maxBytes);
  const terms = keys.schemas.map((removal) => `(${rowsOf(removal, dialect)} AND tables IS NULL)`);
  if (updates.length > 0) terms.unshift("tables = ''");
  return [...updates, ...boundedStatements(`DELETE FROM ${table} WHERE `, terms, "", maxBytes, " OR ")];
}
