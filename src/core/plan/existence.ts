import { type Grant, type Grantee, granteeKey, type ObjectRef } from "../grants.js";
import type { InventoryLike } from "../inventory-view.js";
import type { PendingReason } from "./types.js";

/** What exists in the target, looked up by names without building a key string per grant. */
export class ExistenceIndex {
  readonly #inventory: InventoryLike;
  readonly #grantees = { group: new Map<string, boolean>(), role: new Map<string, boolean>() };
  readonly #tables = new Map<string, Map<string, ReadonlySet<string>>>();

  constructor(inventory: InventoryLike) {
    this.#inventory = inventory;
    for (const [key, columns] of inventory.tables) {
      // tableKey joins schema and table by NUL, which no schema name contains.
      const cut = key.indexOf("\u0000");
      const schema = key.slice(0, cut);
      let tables = this.#tables.get(schema);
      if (tables === undefined) this.#tables.set(schema, (tables = new Map()));
      tables.set(key.slice(cut + 1), columns);
    }
  }

  /** true, or what is missing in the target for this grant. */
  of(grant: Grant): true | Exclude<PendingReason, "columns"> {
    return this.granteeExists(grant.grantee) ? this.objectState(grant.object) : "grantee";
  }

  granteeExists(grantee: Grantee): boolean {
    const names = this.#grantees[grantee.kind];
    let found = names.get(grantee.name);
    if (found === undefined) names.set(grantee.name, (found = this.#inventory.grantees.has(granteeKey(grantee))));
    return found;
  }

  /**
   * An external (Spectrum) schema counts as missing: nothing is granted there (external-objects.ts),
   * and a grant recorded there is forgotten rather than revoked, since a REVOKE on it cannot run in
   * a batch's transaction (aws-facts §6.1).
   */
  objectState(object: ObjectRef): true | "schema" | "table" {
    if (!this.#inventory.schemas.has(object.schema) || this.#inventory.externalSchemas?.has(object.schema) === true) return "schema";
    if (object.table !== null && this.columns(object.schema, object.table) === undefined) return "table";
    return true;
  }

  columns(schema: string, table: string): ReadonlySet<string> | undefined {
    return this.#tables.get(schema)?.get(table);
  }
}
