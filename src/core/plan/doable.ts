import type { Diagnostic } from "../diagnostics.js";
import { error } from "../diagnostics.js";
import { withoutExternalObjects } from "../external-objects.js";
import { GrantColumns, type GrantRegistry } from "../grant-columns.js";
import type { InventoryLike } from "../inventory-view.js";
import { narrowToListedColumns } from "./unlisted-columns.js";

/**
 * The desired grants the target can take as Lake Formation allows them, and why the others are
 * left out. The one gate between the mapper and the planner, for a full run and an incremental
 * one alike (a scoped run that skipped it would grant what a full run refuses):
 * - nothing in external schemas, no column grants on late-binding views (external-objects.ts);
 * - no whole-table grant where the target holds columns the catalog does not list (unlisted-columns.ts);
 * - nothing to a superuser (issue 13 item 14): it holds every privilege anyway, and a mapping that
 *   names one is a mistake to report, not to act on.
 */
export function doableDesired(
  desired: GrantColumns,
  registry: GrantRegistry,
  inventory: Pick<InventoryLike, "externalSchemas" | "lateBindingViews" | "tables" | "superusers">,
  listed: ReadonlyMap<string, ReadonlySet<string>>,
): { readonly desired: GrantColumns; readonly diagnostics: readonly Diagnostic[] } {
  const external = withoutExternalObjects(desired, registry, inventory);
  const narrowed = narrowToListedColumns(external.desired, registry, inventory, listed);
  const granted = withoutSuperusers(narrowed.desired, registry, inventory.superusers);
  return { desired: granted.desired, diagnostics: [...external.diagnostics, ...narrowed.diagnostics, ...granted.diagnostics] };
}

/** Desired grants to a superuser are dropped, each such grantee reported once as an error. */
export function withoutSuperusers(
  desired: GrantColumns,
  registry: GrantRegistry,
  superusers: ReadonlySet<string> | undefined,
): { readonly desired: GrantColumns; readonly diagnostics: readonly Diagnostic[] } {
  if (superusers === undefined || superusers.size === 0) return { desired, diagnostics: [] };
  const dropped = new Map<number, number>();
  const isSuperuser = registry.grantees.map((g) => superusers.has(g.name));
  if (!isSuperuser.some(Boolean)) return { desired, diagnostics: [] };
  const kept = new GrantColumns();
  for (let i = 0; i < desired.length; i++) {
    const grantee = desired.grantee[i]!;
    if (isSuperuser[grantee] === true) dropped.set(grantee, (dropped.get(grantee) ?? 0) + 1);
    else kept.push(grantee, desired.privilege[i]!, desired.object[i]!, desired.columns[i]!, desired.because[i]!);
  }
  const diagnostics = [...dropped].map(([id, n]) => {
    const g = registry.grantees[id]!;
    return error(`${g.kind} ${JSON.stringify(g.name)} is a superuser: ${n} grant${n === 1 ? "" : "s"} not applied; the service never grants to or revokes from a superuser; fix the mapping`);
  });
  return { desired: kept, diagnostics };
}
