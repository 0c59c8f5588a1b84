import type { PlanStep, RecordChange } from "./plan.js";
import { byteLength } from "./sql.js";

/** Rendered GRANT/REVOKE statements and the plan steps they apply (one transaction with their state rows). */
export interface Unit {
  readonly sql: readonly string[];
  readonly steps: readonly PlanStep[];
}

export interface BatchLimits {
  readonly statements: number;
  /** One statement, in UTF-8 bytes (the state store splits its rows by it). */
  readonly statementBytes: number;
  /** All statements of a batch together, in UTF-8 bytes (Infinity: no bound). */
  readonly bytes: number;
  /** Tables and schemas one batch may touch (Infinity: no bound). */
  readonly objects: number;
}

export interface PackedBatch {
  readonly statements: readonly string[];
  readonly steps: readonly PlanStep[];
  readonly records: readonly RecordChange[];
}

/** A unit cut after `count` steps, each side re-rendered (null: the unit cannot be cut). */
export type SplitUnit = (unit: Unit, count: number) => { readonly head: readonly Unit[]; readonly tail: readonly Unit[] } | null;

/**
 * Rough bytes of state rows per record (migrations/0001, state/grant-slots-write.ts): a first guess
 * (fixed part plus the names and policy ids the row spells out), corrected by every batch rendered.
 */
const INSERT_GUESS = 60;
const DELETE_GUESS = 200;
const DELETE_PER_COLUMN_GUESS = 150;
/** Packing aims this far inside the byte limit, so that an estimate a little short rarely costs a second render. */
const BYTES_TARGET = 0.97;
/** Statements the state store may write to take slots out of its rows in one batch (UPDATEs, a DELETE). */
const DELETE_KINDS = 4;

interface StateGuess {
  insert: number;
  remove: number;
  deletes: boolean;
}

/**
 * Packs units into batches greedily, by statements, bytes and objects (DESIGN §3). A batch's state
 * rows are known only once rendered, so their size is estimated while packing (the estimate is
 * calibrated by every batch rendered); a unit that does not fit is cut where the batch is full, and
 * a rendered batch that still overflows gives its last steps back to the next batch.
 */
export class BatchPacker {
  #units: Unit[] = [];
  #sql = 0;
  #sqlBytes = 0;
  #objects = 0;
  #state: StateGuess = { insert: 0, remove: 0, deletes: false };
  /** Real bytes per guessed byte of INSERTs and of DELETEs, from the last batch rendered that had them. */
  #insertRatio = 1;
  #removeRatio = 1;
  #calibrated = false;

  constructor(
    private readonly limits: BatchLimits,
    private readonly stateStatements: (records: readonly RecordChange[]) => readonly string[],
    private readonly split: SplitUnit,
  ) {}

  /** Adds a unit; yields every batch that fills up on the way. */
  *push(unit: Unit): Generator<PackedBatch> {
    if (!this.#calibrated && unit.steps.length > 0) this.#render(unit.steps.length > 64 ? [{ sql: [], steps: unit.steps.slice(0, 64) }] : [unit]);
    const queue: Unit[] = [unit];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (this.#units.length === 0 || this.#fits(next)) {
        this.#add(next);
        if (this.#units.length === 1 && !this.#fitsAlone()) queue.unshift(...this.#cutLast());
        continue;
      }
      const room = this.#stepsThatFit(next);
      const parts = room > 0 && room < next.steps.length ? this.split(next, room) : null;
      if (parts !== null) {
        for (const head of parts.head) this.#add(head);
        queue.unshift(...parts.tail);
      } else queue.unshift(next);
      const { batch, rest } = this.#flush();
      yield batch;
      queue.unshift(...rest);
    }
  }

  /** Adds the unit when the current batch takes it whole by the estimate (an empty batch takes anything). */
  tryAdd(unit: Unit): boolean {
    if (this.#units.length > 0 && !this.#fits(unit)) return false;
    this.#add(unit);
    return true;
  }

  *finish(): Generator<PackedBatch> {
    while (this.#units.length > 0) {
      const { batch, rest } = this.#flush();
      yield batch;
      for (const unit of rest) yield* this.push(unit);
    }
  }

  /** By the estimate, whether the current batch takes `unit` whole. */
  #fits(unit: Unit): boolean {
    const guess = addGuess(this.#state, stateGuess(unit.steps));
    return (
      this.#sql + unit.sql.length + this.#stateCount(guess) <= this.limits.statements &&
      this.#sqlBytes + sqlBytes(unit) + this.#stateBytes(guess) <= this.limits.bytes * BYTES_TARGET &&
      this.#objects + touched(unit) <= this.limits.objects
    );
  }

  /** A lone unit over the limits by the estimate (a merged statement whose state rows overflow). */
  #fitsAlone(): boolean {
    return this.#sql + this.#stateCount(this.#state) <= this.limits.statements && this.#estimatedBytes() <= this.limits.bytes * BYTES_TARGET && this.#objects <= this.limits.objects;
  }

  /** Cuts the only unit where its estimate fills a batch; returns the tail for the next ones. */
  #cutLast(): Unit[] {
    const only = this.#units[0]!;
    const keep = Math.max(1, Math.floor(only.steps.length * Math.min(this.#ratioOfLimits(), 0.99)));
    const parts = keep < only.steps.length ? this.split(only, keep) : null;
    if (parts === null) return [];
    this.#reset([]);
    for (const head of parts.head) this.#add(head);
    return [...parts.tail];
  }

  /** How far the current estimate is inside the tightest limit (1: exactly at it). */
  #ratioOfLimits(): number {
    return Math.min(
      this.limits.statements / Math.max(1, this.#sql + this.#stateCount(this.#state)),
      (this.limits.bytes * BYTES_TARGET) / Math.max(1, this.#estimatedBytes()),
      this.limits.objects / Math.max(1, this.#objects),
    );
  }

  /** How many of the unit's leading steps the current batch takes, by the estimate. */
  #stepsThatFit(unit: Unit): number {
    const steps = unit.steps.length;
    const perStep = (sqlBytes(unit) + this.#stateBytes(stateGuess(unit.steps))) / steps;
    const byBytes = Math.floor((this.limits.bytes * BYTES_TARGET - this.#estimatedBytes()) / Math.max(1, perStep));
    const byObjects = unit.sql.length === 0 ? steps : this.limits.objects - this.#objects;
    const byStatements = this.#sql + 1 + this.#stateCount(this.#state) + 1 <= this.limits.statements ? steps : 0;
    return Math.max(0, Math.min(byBytes, byObjects, byStatements));
  }

  /** Renders the current batch; steps it cannot hold go back, cut from its end. */
  #flush(): { batch: PackedBatch; rest: Unit[] } {
    const units = [...this.#units];
    const rest: Unit[] = [];
    for (;;) {
      const batch = this.#render(units);
      const over = this.#overflow(batch);
      if (over === null || (units.length === 1 && units[0]!.steps.length === 1)) {
        this.#reset([]);
        return { batch, rest };
      }
      const last = units.pop()!;
      const perStep = over.perStep(last);
      const giveBack = Math.min(last.steps.length, Math.ceil(over.bytes / Math.max(1, perStep)) + 1);
      const parts = units.length === 0 || giveBack < last.steps.length ? this.split(last, Math.max(1, last.steps.length - giveBack)) : null;
      if (parts === null) {
        if (units.length === 0) {
          this.#reset([]);
          return { batch, rest };
        }
        rest.unshift(last);
      } else {
        units.push(...parts.head);
        rest.unshift(...parts.tail);
      }
    }
  }

  #render(units: readonly Unit[]): PackedBatch & { stateBytes: number } {
    const steps = units.flatMap((u) => u.steps);
    const records = steps.flatMap((s) => s.records);
    const state = records.length > 0 ? this.stateStatements(records) : [];
    let stateBytes = 0;
    let insertBytes = 0;
    for (const sql of state) {
      const bytes = byteLength(sql);
      stateBytes += bytes;
      if (sql.startsWith("INSERT")) insertBytes += bytes;
    }
    const guess = stateGuess(steps);
    if (guess.insert > 0) this.#insertRatio = insertBytes / guess.insert;
    if (guess.remove > 0) this.#removeRatio = (stateBytes - insertBytes) / guess.remove;
    this.#calibrated ||= records.length > 0;
    return { statements: [...units.flatMap((u) => u.sql), ...state], steps, records, stateBytes };
  }

  /** null when within the limits; else the bytes over (statements over count as a statement's worth). */
  #overflow(batch: PackedBatch & { stateBytes: number }): { bytes: number; perStep: (unit: Unit) => number } | null {
    let bytes = 0;
    for (const sql of batch.statements) bytes += byteLength(sql);
    const extraStatements = batch.statements.length - this.limits.statements;
    const extraBytes = bytes - this.limits.bytes;
    if (extraStatements <= 0 && extraBytes <= 0) return null;
    const stateShare = batch.records.length === 0 ? 0 : batch.stateBytes / batch.records.length;
    return {
      bytes: Math.max(extraBytes, extraStatements > 0 ? extraStatements * this.limits.statementBytes : 0),
      perStep: (unit) => sqlBytes(unit) / unit.steps.length + stateShare,
    };
  }

  #add(unit: Unit): void {
    this.#units.push(unit);
    this.#sql += unit.sql.length;
    this.#sqlBytes += sqlBytes(unit);
    this.#objects += touched(unit);
    this.#state = addGuess(this.#state, stateGuess(unit.steps));
  }

  #reset(units: readonly Unit[]): void {
    this.#units = [];
    this.#sql = this.#sqlBytes = this.#objects = 0;
    this.#state = { insert: 0, remove: 0, deletes: false };
    for (const unit of units) this.#add(unit);
  }

  #estimatedBytes(): number {
    return this.#sqlBytes + this.#stateBytes(this.#state);
  }

  #stateBytes(guess: StateGuess): number {
    return guess.insert * this.#insertRatio + guess.remove * this.#removeRatio;
  }

  /** INSERTs of up to a statement's bytes each; when anything is deleted, each kind of DELETE and its overflow. */
  #stateCount(guess: StateGuess): number {
    const inserts = Math.ceil((guess.insert * this.#insertRatio) / this.limits.statementBytes);
    return guess.deletes ? inserts + DELETE_KINDS + Math.ceil((guess.remove * this.#removeRatio) / this.limits.statementBytes) : inserts;
  }
}

const unitBytes = new WeakMap<Unit, number>();

function sqlBytes(unit: Unit): number {
  let bytes = unitBytes.get(unit);
  if (bytes === undefined) {
    bytes = 0;
    for (const sql of unit.sql) bytes += byteLength(sql);
    unitBytes.set(unit, bytes);
  }
  return bytes;
}

/** State-only units touch no object of the target. */
function touched(unit: Unit): number {
  return unit.sql.length === 0 ? 0 : unit.steps.length;
}

function addGuess(a: StateGuess, b: StateGuess): StateGuess {
  return { insert: a.insert + b.insert, remove: a.remove + b.remove, deletes: a.deletes || b.deletes };
}

/** The names and policy references a state row spells out: they vary from row to row far more than the rest. */
function rowNameBytes(record: RecordChange): number {
  let bytes = record.grant.grantee.name.length + record.grant.object.schema.length + (record.grant.object.table?.length ?? 0);
  for (const reason of record.because) bytes += reason.length + 3;
  return bytes;
}

function stateGuess(steps: readonly PlanStep[]): StateGuess {
  const guess: StateGuess = { insert: 0, remove: 0, deletes: false };
  for (const step of steps) {
    for (const record of step.records) {
      const columns = record.grant.object.columns;
      let columnBytes = 0;
      if (columns !== null) for (const c of columns) columnBytes += c.length + 4;
      if (record.op === "record") guess.insert += INSERT_GUESS + columnBytes + rowNameBytes(record);
      if (record.op === "forget" || record.fresh !== true) {
        // The slot's key, and the key of each row version 0001 may have left per column.
        guess.deletes = true;
        guess.remove += DELETE_GUESS + DELETE_PER_COLUMN_GUESS * (columns?.length ?? 1);
      }
    }
  }
  return guess;
}
