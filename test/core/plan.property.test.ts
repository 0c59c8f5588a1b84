import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DesiredGrant, Grant, Grantee, Privilege, RecordedGrant } from "../../src/core/grants.js";
import { grantSlotKey, granteeKey, tableKey } from "../../src/core/grants.js";
import type { InventoryLike } from "../../src/core/inventory-view.js";
import { type Plan, planChanges } from "../../src/core/plan.js";
import { planInput } from "../support/catalog-builders.js";

/**
 * A small universe: 3 grantees (g2 may not exist), schemas s0/s1, tables s0.t0, s0.t1, s1.t0 with
 * columns c0..c2 (c3 never exists). Each (grantee, object, privilege) slot gets a random desired,
 * recorded and held form: none, table level, or a column subset.
 */
const GRANTEES: readonly Grantee[] = ["g0", "g1", "g2"].map((name) => ({ kind: "group", name }));
const TABLES = [
  ["s0", "t0"],
  ["s0", "t1"],
  ["s1", "t0"],
] as const;
const COLUMNS = ["c0", "c1", "c2"];

interface Slot {
  readonly grantee: Grantee;
  readonly privilege: Privilege;
  readonly schema: string;
  readonly table: string | null;
}
const SLOTS: readonly Slot[] = GRANTEES.flatMap((grantee) => [
  ...["s0", "s1"].map((schema) => ({ grantee, privilege: "USAGE" as const, schema, table: null })),
  ...TABLES.flatMap(([schema, table]) => (["SELECT", "INSERT"] as const).map((privilege) => ({ grantee, privilege, schema, table }))),
]);

/** null: none; "full"; or a column list. */
type Form = null | "full" | readonly string[];
const formArb = (columns: readonly string[]): fc.Arbitrary<Form> =>
  fc.oneof(fc.constant(null), fc.constant(null), fc.constant("full" as const), fc.subarray([...columns], { minLength: 1 }));

function toGrant(slot: Slot, form: "full" | readonly string[]): Grant {
  return {
    grantee: slot.grantee,
    privilege: slot.privilege,
    object: { schema: slot.schema, table: slot.table, columns: form === "full" || slot.table === null ? null : [...form].sort() },
  };
}

interface World {
  readonly inventory: InventoryLike & { readonly held: readonly Grant[] };
  readonly desired: DesiredGrant[];
  readonly recorded: RecordedGrant[];
}

const worldArb: fc.Arbitrary<World> = fc
  .record({
    grantees: fc.subarray(GRANTEES.map(granteeKey), { minLength: 0 }),
    tables: fc.array(fc.subarray(COLUMNS), { minLength: 3, maxLength: 3 }),
    tableExists: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    schemaExists: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    desired: fc.array(formArb([...COLUMNS, "c3"]), { minLength: SLOTS.length, maxLength: SLOTS.length }),
    recorded: fc.array(formArb([...COLUMNS, "c3"]), { minLength: SLOTS.length, maxLength: SLOTS.length }),
    held: fc.array(formArb(COLUMNS), { minLength: SLOTS.length, maxLength: SLOTS.length }),
  })
  .map((r) => {
    const schemas = new Set(["s0", "s1"].filter((_, i) => r.schemaExists[i]));
    const tables = new Map<string, ReadonlySet<string>>();
    TABLES.forEach(([s, t], i) => {
      if (schemas.has(s) && r.tableExists[i]) tables.set(tableKey(s, t), new Set(r.tables[i]));
    });
    const grantees = new Set(r.grantees);
    const desired: DesiredGrant[] = [];
    const recorded: RecordedGrant[] = [];
    const held: Grant[] = [];
    SLOTS.forEach((slot, i) => {
      const d = r.desired[i]!;
      if (d !== null && (d === "full" || slot.privilege === "SELECT")) desired.push({ ...toGrant(slot, d), because: [`policy#${i}`] });
      const rec = r.recorded[i]!;
      if (rec !== null && (rec === "full" || slot.privilege === "SELECT")) recorded.push({ ...toGrant(slot, rec), because: [`policy#${i}`], runId: "r0" });
      // What the target holds can only be on objects that exist (Redshift: never table and column level at once).
      const h = r.held[i]!;
      const present = slot.table === null ? schemas.has(slot.schema) : tables.get(tableKey(slot.schema, slot.table));
      if (h === null || !grantees.has(granteeKey(slot.grantee)) || present === undefined || present === false) return;
      if (h === "full") held.push(toGrant(slot, "full"));
      else if (slot.privilege === "SELECT" && present !== true) {
        const cols = h.filter((c) => present.has(c));
        if (cols.length > 0) held.push(toGrant(slot, cols));
      }
    });
    return { inventory: { schemas, tables, grantees, held }, desired, recorded };
  });

class RedshiftError extends Error {}

/**
 * Applies a plan the way Redshift would (aws-facts §6.2): a column GRANT while the table level is
 * held has no effect, a column REVOKE then is an error, a table GRANT while columns are held is an
 * error; a statement on a missing object fails. State rows: one per column (migrations/0001).
 */
function applyPlan(world: World, plan: Plan): World {
  const { inventory } = world;
  const held = new Map<string, { grant: Grant; full: boolean; columns: Set<string> }>();
  const entry = (g: Grant) => {
    const key = grantSlotKey(g);
    let e = held.get(key);
    if (e === undefined) held.set(key, (e = { grant: g, full: false, columns: new Set() }));
    return e;
  };
  for (const g of inventory.held) {
    const e = entry(g);
    if (g.object.columns === null) e.full = true;
    else g.object.columns.forEach((c) => e.columns.add(c));
  }
  const rows = new Map<string, RecordedGrant>();
  const rowKey = (g: Grant, column: string | null) => JSON.stringify([grantSlotKey(g), column]);
  for (const r of world.recorded) for (const c of r.object.columns ?? [null]) rows.set(rowKey(r, c), { ...r, object: { ...r.object, columns: c === null ? null : [c] } });

  for (const step of plan.steps) {
    for (const change of step.changes) {
      const o = change.object;
      if (!inventory.grantees.has(granteeKey(change.grantee))) throw new RedshiftError(`grantee missing: ${JSON.stringify(change)}`);
      const columns = o.table === null ? inventory.schemas.has(o.schema) : inventory.tables.get(tableKey(o.schema, o.table));
      if (columns === false || columns === undefined) throw new RedshiftError(`object missing: ${JSON.stringify(change)}`);
      if (columns !== true && o.columns !== null && o.columns.some((c) => !columns.has(c))) throw new RedshiftError(`column missing: ${JSON.stringify(change)}`);
      const e = entry(change);
      if (change.op === "grant" && o.columns === null) {
        if (e.columns.size > 0) throw new RedshiftError(`table-level GRANT while column grants are held: ${JSON.stringify(change)}`);
        e.full = true;
      } else if (change.op === "grant") {
        if (!e.full) o.columns!.forEach((c) => e.columns.add(c));
      } else if (o.columns === null) {
        e.full = false;
        e.columns.clear();
      } else {
        if (e.full) throw new RedshiftError(`column REVOKE while the table level is held: ${JSON.stringify(change)}`);
        o.columns.forEach((c) => e.columns.delete(c));
      }
    }
    for (const r of step.records) {
      for (const c of r.grant.object.columns ?? [null]) {
        const key = rowKey(r.grant, c);
        if (r.op === "record") rows.set(key, { ...r.grant, object: { ...r.grant.object, columns: c === null ? null : [c] }, because: r.because, runId: "r1" });
        else rows.delete(key);
      }
    }
  }

  const newHeld: Grant[] = [];
  for (const e of held.values()) {
    if (e.full) newHeld.push({ ...e.grant, object: { ...e.grant.object, columns: null } });
    if (e.columns.size > 0) newHeld.push({ ...e.grant, object: { ...e.grant.object, columns: [...e.columns].sort() } });
  }
  return { inventory: { ...inventory, held: newHeld }, desired: world.desired, recorded: [...rows.values()] };
}

const plan = (w: World, dialect: "redshift" | "postgres" = "redshift") =>
  planChanges(planInput({ desired: w.desired, recorded: w.recorded, inventory: w.inventory, dialect }));

/** held and recorded as sorted lines, for comparing two states. */
function stateLines(w: World): { held: string[]; recorded: string[] } {
  const line = (g: Grant) => `${grantSlotKey(g)} ${JSON.stringify(g.object.columns)}`;
  const perColumn = (gs: readonly Grant[]) => gs.flatMap((g) => (g.object.columns ?? [null]).map((c) => line({ ...g, object: { ...g.object, columns: c === null ? null : [c] } })));
  return { held: perColumn(w.inventory.held).sort(), recorded: perColumn(w.recorded).sort() };
}

function shuffle<T>(items: readonly T[], key: (x: T) => number): T[] {
  return [...items].sort((a, b) => key(a) - key(b));
}

describe("planChanges: properties over random small worlds", () => {
  it("applies without a Redshift error, and the plan of the applied state is empty", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const first = plan(world);
        const applied = applyPlan(world, first);
        const again = plan(applied);
        expect(again.changes).toEqual([]);
        expect(again.steps).toEqual([]);
        expect(again.pending).toEqual(first.pending);
      }),
      { numRuns: 700 },
    );
  });

  it("incremental == full: applying D1 then D2 reaches the state of applying D2 from scratch", () => {
    fc.assert(
      fc.property(worldArb, worldArb, (w1, w2) => {
        const empty = { ...w1.inventory, held: [] };
        const start: World = { inventory: empty, desired: w1.desired, recorded: [] };
        const afterD1 = applyPlan(start, plan(start));
        const step2: World = { ...afterD1, desired: w2.desired };
        const incremental = applyPlan(step2, plan(step2));
        const fresh: World = { inventory: empty, desired: w2.desired, recorded: [] };
        const full = applyPlan(fresh, plan(fresh));
        expect(stateLines(incremental)).toEqual(stateLines(full));
      }),
      { numRuns: 400 },
    );
  });

  it("is deterministic and independent of the input order of desired, recorded and held grants", () => {
    fc.assert(
      fc.property(worldArb, fc.func(fc.integer()), (world, key) => {
        const a = plan(world);
        const shuffled: World = {
          inventory: { ...world.inventory, held: shuffle(world.inventory.held, key) },
          desired: shuffle(world.desired, key),
          recorded: shuffle(world.recorded, key),
        };
        const b = plan(shuffled);
        expect(JSON.stringify(b.changes)).toBe(JSON.stringify(a.changes));
        expect(JSON.stringify(b.steps)).toBe(JSON.stringify(a.steps));
        expect(JSON.stringify(b.pending)).toBe(JSON.stringify(a.pending));
        expect(b.warnings).toEqual(a.warnings);
        expect(JSON.stringify(plan(world).changes)).toBe(JSON.stringify(a.changes));
      }),
      { numRuns: 400 },
    );
  });

  it("never revokes a grant that is not recorded", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const recorded = new Set(stateLines(world).recorded);
        for (const c of plan(world).changes) {
          if (c.op !== "revoke") continue;
          for (const col of c.object.columns ?? [null]) {
            expect(recorded.has(`${grantSlotKey(c)} ${JSON.stringify(col === null ? null : [col])}`), JSON.stringify(c)).toBe(true);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it("PostgreSQL: moving a grantee between the group and role kinds of one name plans no SQL, and the state it records is steady", () => {
    const g0 = GRANTEES[0]!;
    const asRole = <T extends Grant>(g: T): T => (g.grantee.name === g0.name ? { ...g, grantee: { kind: "role", name: g0.name } } : g);
    fc.assert(
      fc.property(worldArb, (world) => {
        const steady = applyPlan(world, plan(world));
        // One PostgreSQL role under both kinds: the inventory reports its grants under each kind the plan asks about
        // (those of the desired and recorded grants, inventory-postgres.ts).
        const asked = (w: World, kind: Grantee["kind"]) => [...w.desired, ...w.recorded].some((g) => g.grantee.name === g0.name && g.grantee.kind === kind);
        const inventoryOf = (w: World): World["inventory"] => {
          const kinds = (["group", "role"] as const).filter((kind) => asked(w, kind) && steady.inventory.grantees.has(granteeKey(g0)));
          const others = steady.inventory.held.filter((g) => g.grantee.name !== g0.name);
          const mine = steady.inventory.held.filter((g) => g.grantee.name === g0.name);
          const grantees = [...steady.inventory.grantees].filter((k) => k !== granteeKey(g0));
          return { ...steady.inventory, grantees: new Set([...grantees, ...kinds.map((kind) => granteeKey({ kind, name: g0.name }))]), held: [...others, ...kinds.flatMap((kind) => mine.map((g) => ({ ...g, grantee: { kind, name: g0.name } })))] };
        };
        const unmanaged = (p: Plan) => p.unmanaged.map((u) => JSON.stringify(asRole(u))).sort();
        const before = plan({ ...steady, inventory: inventoryOf(steady) }, "postgres");
        fc.pre(before.steps.length === 0);
        const flipped: World = { ...steady, desired: steady.desired.map(asRole) };
        const moved: World = { ...flipped, inventory: inventoryOf(flipped) };
        const move = plan(moved, "postgres");
        expect(move.changes).toEqual([]);
        expect(unmanaged(move)).toEqual(unmanaged(before));
        const applied = applyPlan(moved, move);
        expect(applied.recorded.filter((r) => r.grantee.name === g0.name && r.grantee.kind === "group")).toEqual([]);
        const after: World = { ...applied, inventory: inventoryOf(applied) };
        expect(plan(after, "postgres").steps).toEqual([]);
        expect(unmanaged(plan(after, "postgres"))).toEqual(unmanaged(before));
      }),
      { numRuns: 400 },
    );
  });
});
