import { compareStrings, type Dialect, type Grant, type Grantee, type ObjectRef } from "./grants.js";
import { type Change, type FreshGrants, type Plan, type PlanStep, planParts, type RecordChange } from "./plan.js";
import { BatchPacker, type BatchLimits, type PackedBatch, type SplitUnit, type Unit } from "./batch-packer.js";
import { type Moves, pairMoves } from "./render-moves.js";
import { byteLength, qualifiedName, quoteIdent } from "./sql.js";

/** Data API limits (aws-facts §5.1, §5.3, trap 15). */
export const MAX_STATEMENT_BYTES = 100_000;
export const MAX_BATCH_STATEMENTS = 40;
/** Objects per merged statement: keeps each unit's state rows well inside one batch. */
export const MAX_OBJECTS_PER_STATEMENT = 1000;
/** The same where a batch is bounded in bytes (about what 100 KB holds with each object's state row). */
const MAX_OBJECTS_PER_BOUNDED_BATCH = 200;
/**
 * Objects (tables, schemas) one batch may touch: every GRANT takes a lock per relation until the
 * transaction ends, and PostgreSQL's shared lock table (max_locks_per_transaction x connections,
 * 6400 by default) overflows with "out of shared memory" well before 40 statements x 1000 tables.
 */
export const MAX_BATCH_OBJECTS = 2000;

/**
 * One keyword per grantee (aws-facts §6.1: `TO GROUP a, b` may read b as a group): Redshift writes
 * `GROUP g` / `ROLE r`; PostgreSQL has no ROLE keyword there, a bare name serves both (§7).
 */
export function granteeSql(grantee: Grantee, dialect: Dialect): string {
  if (dialect === "postgres") return quoteIdent(grantee.name);
  return `${grantee.kind === "group" ? "GROUP" : "ROLE"} ${quoteIdent(grantee.name)}`;
}

function objectSql(grant: Grant): string {
  if (grant.object.table === null) return `SCHEMA ${quoteIdent(grant.object.schema)}`;
  return `TABLE ${qualifiedName(grant.object.schema, grant.object.table)}`;
}

function privilegeSql(grant: Grant): string {
  const columns = grant.object.columns;
  return columns === null ? grant.privilege : `${grant.privilege} (${columns.map(quoteIdent).join(", ")})`;
}

/** The statement for one change, uncoalesced. */
export function renderChange(change: Change, dialect: Dialect): string {
  const verb = change.op === "grant" ? "GRANT" : "REVOKE";
  const direction = change.op === "grant" ? "TO" : "FROM";
  return `${verb} ${privilegeSql(change)} ON ${objectSql(change)} ${direction} ${granteeSql(change.grantee, dialect)}`;
}

export interface Batch {
  /** GRANT/REVOKE statements followed by the state statements for exactly those changes. */
  readonly statements: readonly string[];
  readonly changes: readonly Change[];
  readonly records: readonly RecordChange[];
}

export interface RenderOptions {
  readonly dialect: Dialect;
  /** Renders the state rows of one batch (the state store's renderStateStatements, bound by the caller). */
  readonly stateStatements: (records: readonly RecordChange[]) => readonly string[];
  readonly maxStatementBytes?: number;
  readonly maxBatchStatements?: number;
  /** All statements of one batch together (default: MAX_BATCH_BYTES of the dialect). */
  readonly maxBatchBytes?: number;
  readonly maxBatchObjects?: number;
}

/**
 * Bytes of SQL per batch: the redshift dialect keeps a whole BatchExecuteStatement within the Data
 * API's 100 KB (aws-facts §5.3; whether the bound is per statement or per call is UNCONFIRMED, so
 * the call is bounded). PostgreSQL has no such bound; its lock table bounds the objects instead.
 */
export const MAX_BATCH_BYTES: Readonly<Record<Dialect, number>> = { redshift: MAX_STATEMENT_BYTES, postgres: Infinity };
/**
 * Statements that need not share a transaction, cut into batches within the same limits as the
 * plan's (MAX_BATCH_STATEMENTS, MAX_BATCH_BYTES of the dialect), in order; each statement is
 * already within MAX_STATEMENT_BYTES.
 */
export function statementBatches(statements: readonly string[], dialect: Dialect): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const sql of statements) {
    const size = byteLength(sql);
    if (batch.length > 0 && (batch.length >= MAX_BATCH_STATEMENTS || bytes + size > MAX_BATCH_BYTES[dialect])) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(sql);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Redshift documents no lock table bound for GRANT; PostgreSQL's is MAX_BATCH_OBJECTS. */
const BATCH_OBJECTS: Readonly<Record<Dialect, number>> = { redshift: Infinity, postgres: MAX_BATCH_OBJECTS };

/**
 * Plan -> batches of statements. Whole-object grants and revokes of one grantee and privilege are
 * merged into statements listing many objects, bounded in bytes; column changes and full-table <->
 * column-subset moves stay one unit, so a step's revoke, grant and state rows always share a batch
 * (one transaction). Revokes run before grants.
 */
export function renderBatches(plan: Plan, options: RenderOptions): Batch[] {
  return [...iterateBatches(plan, options)];
}

/**
 * The same batches, rendered one at a time: apply holds one batch's SQL in memory, not the whole
 * first apply of a large catalog (hundreds of MB of state rows). Each batch is filled up to the
 * first limit it meets (batch-packer.ts), so the count stays near what the limits allow.
 */
export function* iterateBatches(plan: Plan, options: RenderOptions): Generator<Batch> {
  const maxBytes = options.maxStatementBytes ?? MAX_STATEMENT_BYTES;
  const limits: BatchLimits = {
    statements: options.maxBatchStatements ?? MAX_BATCH_STATEMENTS,
    statementBytes: maxBytes,
    bytes: options.maxBatchBytes ?? MAX_BATCH_BYTES[options.dialect],
    objects: options.maxBatchObjects ?? BATCH_OBJECTS[options.dialect],
  };
  // A merged statement no longer than a batch holds with its state rows: cutting one re-renders its tail.
  const perStatement = Math.min(limits.objects, limits.bytes === Infinity ? MAX_OBJECTS_PER_STATEMENT : MAX_OBJECTS_PER_BOUNDED_BATCH);
  const { steps, fresh } = planParts(plan);
  const packer = new BatchPacker(limits, options.stateStatements, splitUnit(options.dialect, maxBytes, perStatement));
  const batchOf = (packed: PackedBatch): Batch => ({ statements: packed.statements, changes: packed.steps.flatMap((s) => s.changes), records: packed.records });
  const lanes = renderUnits(steps, fresh, options.dialect, perStatement, maxBytes);
  for (const unit of lanes.early()) for (const packed of packer.push(unit)) yield batchOf(packed);
  // Column changes fill the statements a batch of merged grants leaves free, and the reverse.
  const columns = lanes.columns();
  const merged = lanes.merged();
  let column = columns.next();
  let grant = merged.next();
  while (column.done !== true || grant.done !== true) {
    if (column.done !== true && packer.tryAdd(column.value)) column = columns.next();
    else if (grant.done !== true) {
      for (const packed of packer.push(grant.value)) yield batchOf(packed);
      grant = merged.next();
    } else if (column.done !== true) {
      for (const packed of packer.push(column.value)) yield batchOf(packed);
      column = columns.next();
    }
  }
  for (const packed of packer.finish()) yield batchOf(packed);
}

/** Cuts a merged unit (or a state-only one) after `count` steps, re-rendering each side; other units stay whole. */
function splitUnit(dialect: Dialect, maxBytes: number, maxObjects: number): SplitUnit {
  return (unit, count) => {
    if (count <= 0 || count >= unit.steps.length) return null;
    const stateOnly = unit.sql.length === 0;
    if (!stateOnly && !unit.steps.every((s) => s.changes.length === 1 && s.changes[0]!.object.columns === null)) return null;
    // A grantee move (grant and revoke of one slot) is one transaction: never cut.
    if (!stateOnly && unit.steps.some((s) => s.changes[0]!.op !== unit.steps[0]!.changes[0]!.op)) return null;
    const part = (steps: readonly PlanStep[]): Unit[] => (stateOnly ? [{ sql: [], steps }] : mergeSteps(steps, dialect, maxBytes, maxObjects));
    return { head: part(unit.steps.slice(0, count)), tail: part(unit.steps.slice(count)) };
  };
}

/**
 * The plan's units, made as they are consumed: state-only corrections, revokes, column changes,
 * and grants merged per grantee and privilege (first grants from their rows, so a first apply
 * never holds a step per grant).
 */
function renderUnits(steps: readonly PlanStep[], fresh: FreshGrants | null, dialect: Dialect, maxObjects: number, maxBytes: number): UnitLanes {
  const names = new ObjectNames();
  const moves = pairMoves(steps, fresh);
  const { mergeable, single, stateOnly } = sortSteps(steps, moves, dialect, maxBytes);
  const { freshGroups, freshSingles } = sortFreshGrants(fresh, moves);
  const groups = orderedGroups(mergeable, freshGroups);
  return {
    *early() {
      if (stateOnly.length > 0) yield { sql: [], steps: stateOnly };
      for (const [grant, revoke] of moves.pairs) yield { sql: [grant, revoke].flatMap((step) => renderColumnChunks(step.changes[0]!, dialect, maxBytes)), steps: [grant, revoke] };
      for (const group of groups) if (group.op === "revoke") yield* mergeSteps(group.steps!, dialect, maxBytes, maxObjects, names);
    },
    *columns() {
      yield* single;
      for (const i of freshSingles) {
        const step = fresh!.stepAt(i);
        yield { sql: step.changes.flatMap((c) => renderColumnChunks(c, dialect, maxBytes)), steps: [step] };
      }
    },
    *merged() {
      for (const group of groups) {
        if (group.op === "revoke") continue;
        if (group.steps !== undefined) yield* mergeSteps(group.steps, dialect, maxBytes, maxObjects, names);
        else yield* mergeFresh(group.fresh!, fresh!, dialect, maxBytes, maxObjects, names);
      }
    },
  };
}

/** op + grantee kind + privilege + object kind -> grantee name -> steps (or fresh grant indexes); no key string per step. */
type MergeGroups<T> = Map<string, Map<string, T[]>>;

function addToGroup<T>(groups: MergeGroups<T>, combo: string, name: string, item: T): void {
  let byGrantee = groups.get(combo);
  if (byGrantee === undefined) groups.set(combo, (byGrantee = new Map()));
  const list = byGrantee.get(name);
  if (list === undefined) byGrantee.set(name, [item]);
  else list.push(item);
}

/** Steps by how they render: state-only, mergeable (one table-level change), or a unit of their own. */
function sortSteps(steps: readonly PlanStep[], moves: Moves, dialect: Dialect, maxBytes: number): { mergeable: MergeGroups<PlanStep>; single: Unit[]; stateOnly: PlanStep[] } {
  const mergeable: MergeGroups<PlanStep> = new Map();
  const single: Unit[] = [];
  const stateOnly: PlanStep[] = [];
  for (const step of steps) {
    const only = step.changes.length === 1 ? step.changes[0]! : null;
    if (moves.steps.has(step)) continue;
    if (step.changes.length === 0) stateOnly.push(step);
    else if (only !== null && only.object.columns === null) {
      addToGroup(mergeable, `${only.op} ${only.grantee.kind} ${only.privilege} ${only.object.table === null ? "schema" : "table"}`, only.grantee.name, step);
    } else {
      single.push({ sql: step.changes.flatMap((c) => renderColumnChunks(c, dialect, maxBytes)), steps: [step] });
    }
  }
  return { mergeable, single, stateOnly };
}

/**
 * First grants by row index: table-level ones merged like steps; column grants stay one unit each,
 * rendered when reached, grantee by grantee (then in plan order): a batch's column grants then share
 * grantee and often the column list, so their state rows are few rows listing many tables
 * (state/grant-slots-write.ts) instead of a row per grant.
 */
function sortFreshGrants(fresh: FreshGrants | null, moves: Moves): { freshGroups: MergeGroups<number>; freshSingles: number[] } {
  const freshGroups: MergeGroups<number> = new Map();
  const byGrantee = new Map<Grantee, number[]>();
  for (let i = 0; fresh !== null && i < fresh.length; i++) {
    if (moves.fresh.has(i)) continue;
    const grantee = fresh.granteeAt(i);
    if (fresh.hasColumns(i)) {
      const list = byGrantee.get(grantee);
      if (list === undefined) byGrantee.set(grantee, [i]);
      else list.push(i);
      continue;
    }
    addToGroup(freshGroups, `grant ${grantee.kind} ${fresh.privilegeAt(i)} ${fresh.objectAt(i).table === null ? "schema" : "table"}`, grantee.name, i);
  }
  return { freshGroups, freshSingles: [...byGrantee.values()].flat() };
}

interface MergeGroup {
  readonly op: string;
  readonly kind: string;
  readonly name: string;
  readonly privilege: string;
  readonly object: string;
  readonly steps?: PlanStep[];
  readonly fresh?: number[];
}

/** Revokes first; then grantee, privilege, schema grants before table grants: a stable order. */
function orderedGroups(mergeable: MergeGroups<PlanStep>, freshGroups: MergeGroups<number>): MergeGroup[] {
  const groups: MergeGroup[] = [];
  const collect = (source: MergeGroups<PlanStep> | MergeGroups<number>, isFresh: boolean) => {
    for (const [combo, byGrantee] of source) {
      const [op, kind, privilege, object] = combo.split(" ") as [string, string, string, string];
      for (const [name, list] of byGrantee) {
        groups.push({ op, kind, name, privilege, object, ...(isFresh ? { fresh: list as number[] } : { steps: list as PlanStep[] }) });
      }
    }
  };
  collect(mergeable, false);
  collect(freshGroups, true);
  return groups.sort(
    (a, b) =>
      compareStrings(b.op, a.op) ||
      compareStrings(a.kind, b.kind) ||
      compareStrings(a.name, b.name) ||
      compareStrings(a.privilege, b.privilege) ||
      compareStrings(a.object, b.object) ||
      (a.fresh === undefined ? 0 : 1) - (b.fresh === undefined ? 0 : 1),
  );
}

/**
 * The plan's units in three lanes: state-only corrections and revokes first; then column changes
 * (a statement each, few bytes) and merged grants (few statements, many bytes), which touch
 * distinct slots and so may share batches in any order.
 */
interface UnitLanes {
  early(): Generator<Unit>;
  columns(): Generator<Unit>;
  merged(): Generator<Unit>;
}

/** mergeSteps for first grants given by index: each chunk's steps are made when the chunk is reached. */
function mergeFresh(indexes: readonly number[], fresh: FreshGrants, dialect: Dialect, maxBytes: number, maxObjects: number, objectNames: ObjectNames): Generator<Unit> {
  const i = indexes[0]!;
  const statement = { op: "grant" as const, privilege: fresh.privilegeAt(i), grantee: fresh.granteeAt(i), object: fresh.objectAt(i) };
  return mergeObjects(indexes, statement, (k) => fresh.objectAt(k), (chunk) => chunk.map((k) => fresh.stepAt(k)), dialect, maxBytes, maxObjects, objectNames);
}

/** Quoted object names, each built once: a table is named in a statement per grantee and privilege. */
class ObjectNames {
  readonly #names = new Map<ObjectRef, string>();

  of(object: ObjectRef): string {
    let name = this.#names.get(object);
    if (name === undefined) {
      name = object.table === null ? quoteIdent(object.schema) : qualifiedName(object.schema, object.table);
      this.#names.set(object, name);
    }
    return name;
  }
}

/**
 * A column change as statements of at most maxBytes: a table has up to 1600 columns of up to 127
 * bytes, more than one Data API statement holds (aws-facts §5.3). Splitting a column list means the same.
 */
function renderColumnChunks(change: Change, dialect: Dialect, maxBytes: number): string[] {
  const columns = change.object.columns;
  const whole = renderChange(change, dialect);
  if (columns === null || byteLength(whole) <= maxBytes) return [whole];
  const fixed = byteLength(renderChange({ ...change, object: { ...change.object, columns: [] } }, dialect));
  const chunks: string[][] = [[]];
  let bytes = fixed;
  for (const column of columns) {
    const size = byteLength(quoteIdent(column)) + 2;
    if (chunks[chunks.length - 1]!.length > 0 && bytes + size > maxBytes) {
      chunks.push([]);
      bytes = fixed;
    }
    chunks[chunks.length - 1]!.push(column);
    bytes += size;
  }
  return chunks.map((chunk) => renderChange({ ...change, object: { ...change.object, columns: chunk } }, dialect));
}

/** `GRANT p ON TABLE a, b, c TO g` for steps that share op, grantee and privilege, split by bytes. */
function mergeSteps(steps: readonly PlanStep[], dialect: Dialect, maxBytes: number, maxObjects = MAX_OBJECTS_PER_STATEMENT, objectNames = new ObjectNames()): Unit[] {
  return [...mergeObjects(steps, steps[0]!.changes[0]!, (step) => step.changes[0]!.object, (chunk) => chunk, dialect, maxBytes, maxObjects, objectNames)];
}

/**
 * `VERB p ON KIND a, b, c TO|FROM g` over items sharing op, grantee, privilege and object kind,
 * split by bytes and object count; each unit's steps are made from its chunk when it is yielded.
 */
function* mergeObjects<T>(
  items: readonly T[],
  statement: Pick<Change, "op" | "privilege" | "grantee" | "object">,
  objectOf: (item: T) => Change["object"],
  stepsOf: (chunk: T[]) => PlanStep[],
  dialect: Dialect,
  maxBytes: number,
  maxObjects: number,
  objectNames: ObjectNames,
): Generator<Unit> {
  const verb = statement.op === "grant" ? "GRANT" : "REVOKE";
  const direction = statement.op === "grant" ? "TO" : "FROM";
  const head = `${verb} ${statement.privilege} ON ${statement.object.table === null ? "SCHEMA" : "TABLE"} `;
  const tail = ` ${direction} ${granteeSql(statement.grantee, dialect)}`;
  const fixed = byteLength(head) + byteLength(tail);
  let names: string[] = [];
  let chunk: T[] = [];
  let bytes = fixed;
  for (const item of items) {
    const name = objectNames.of(objectOf(item));
    const size = byteLength(name) + 2;
    if (names.length > 0 && (bytes + size > maxBytes || names.length >= maxObjects)) {
      yield { sql: [`${head}${names.join(", ")}${tail}`], steps: stepsOf(chunk) };
      names = [];
      chunk = [];
      bytes = fixed;
    }
    names.push(name);
    chunk.push(item);
    bytes += size;
  }
  if (names.length > 0) yield { sql: [`${head}${names.join(", ")}${tail}`], steps: stepsOf(chunk) };
}
