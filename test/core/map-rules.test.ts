import { describe, expect, it } from "vitest";
import { accessGrants, DEFAULT_PRIVILEGES, type PrivilegeMap } from "../../src/core/map.js";
import { IntSets, LF_TABLE_PERMISSIONS, type LfTablePermission } from "../../src/core/resolve.js";

/**
 * One grantee's access on one signature group -> its grants (DESIGN §3), one row per situation.
 * Policies are numbers; `held` says which policies give each LF permission at table level,
 * `columnSelect` which give SELECT on a column subset.
 */
interface Row {
  readonly situation: string;
  readonly held: Partial<Record<LfTablePermission, number[]>>;
  readonly columnSelect?: number[];
  readonly privileges?: Partial<PrivilegeMap>;
  readonly dialect?: "redshift" | "postgres";
  readonly tableLevel: Record<string, number[]>;
  readonly columns: number[];
  readonly usage: number[];
  readonly usageWithColumns: number[];
}

const rows: Row[] = [
  { situation: "nothing held -> nothing", held: {}, tableLevel: {}, columns: [], usage: [], usageWithColumns: [] },
  { situation: "SELECT at table level -> SELECT, USAGE", held: { SELECT: [0] }, tableLevel: { SELECT: [0] }, columns: [], usage: [0], usageWithColumns: [0] },
  { situation: "SELECT on columns -> column SELECT; USAGE only with it", held: {}, columnSelect: [1], tableLevel: {}, columns: [1], usage: [], usageWithColumns: [1] },
  { situation: "SELECT at table level makes the column SELECT moot", held: { SELECT: [0] }, columnSelect: [1], tableLevel: { SELECT: [0] }, columns: [], usage: [0], usageWithColumns: [0] },
  { situation: "DESCRIBE and ALTER -> nothing, not even USAGE", held: { DESCRIBE: [0], ALTER: [1] }, tableLevel: {}, columns: [], usage: [], usageWithColumns: [] },
  { situation: "DESCRIBE with column SELECT -> column SELECT only", held: { DESCRIBE: [0] }, columnSelect: [0], tableLevel: {}, columns: [0], usage: [], usageWithColumns: [0] },
  {
    situation: "ALL (redshift) -> SELECT, INSERT, DELETE, DROP, each with its policies; USAGE by all",
    held: { SELECT: [0, 1], INSERT: [1], DELETE: [1], DESCRIBE: [1], ALTER: [1], DROP: [2] },
    tableLevel: { SELECT: [0, 1], INSERT: [1], DELETE: [1], DROP: [2] },
    columns: [],
    usage: [0, 1, 2],
    usageWithColumns: [0, 1, 2],
  },
  { situation: "DROP (postgres) -> nothing: PostgreSQL has no DROP privilege", dialect: "postgres", held: { DROP: [0] }, tableLevel: {}, columns: [], usage: [], usageWithColumns: [] },
  { situation: "config ALTER -> TRUNCATE", held: { ALTER: [3] }, privileges: { ALTER: ["TRUNCATE"] }, tableLevel: { TRUNCATE: [3] }, columns: [], usage: [3], usageWithColumns: [3] },
  {
    situation: "two permissions mapped to one privilege -> one grant explained by both",
    held: { INSERT: [0], DELETE: [1] },
    privileges: { INSERT: ["UPDATE"], DELETE: ["UPDATE", "DELETE"] },
    tableLevel: { UPDATE: [0, 1], DELETE: [1] },
    columns: [],
    usage: [0, 1],
    usageWithColumns: [0, 1],
  },
  { situation: "config SELECT -> nothing: no table-level grant, no USAGE", held: { SELECT: [0] }, privileges: { SELECT: [] }, tableLevel: {}, columns: [], usage: [], usageWithColumns: [] },
];

describe("accessGrants: one grantee's access on one signature group -> grants", () => {
  it.each(rows)("$situation", (row) => {
    const sets = new IntSets();
    const set = (members: readonly number[] = []) => sets.intern([...members].sort((a, b) => a - b));
    const full = LF_TABLE_PERMISSIONS.map((p) => set(row.held[p]));
    const privileges = { ...DEFAULT_PRIVILEGES[row.dialect ?? "redshift"], ...row.privileges };
    const decided = accessGrants(full, set(row.columnSelect), privileges, sets);
    expect(Object.fromEntries(decided.tableLevel.map((g) => [g.privilege, sets.members(g.because)]))).toEqual(row.tableLevel);
    expect(sets.members(decided.columnSelect)).toEqual(row.columns);
    expect(sets.members(decided.usage)).toEqual(row.usage);
    expect(sets.members(decided.usageWithColumns)).toEqual(row.usageWithColumns);
  });
});
