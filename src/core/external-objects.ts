import { type Diagnostic, warning } from "./diagnostics.js";
import { GrantColumns, type GrantRegistry } from "./grant-columns.js";
import { tableKey } from "./grants.js";
import type { InventoryLike } from "./inventory-view.js";

/**
 * Desired grants Redshift cannot take, left out before planning and reported:
 * - anything in an external (Spectrum) schema: Lake Formation governs Spectrum access itself, and a
 *   GRANT there inside a transaction block fails (aws-facts §6.1, §8), rolling back its whole batch;
 * - column grants on a late-binding view: Redshift has none (aws-facts §6.2). Granting the whole
 *   view instead would widen access, so nothing is granted.
 */
export function withoutExternalObjects(
  desired: GrantColumns,
  registry: GrantRegistry,
  inventory: Pick<InventoryLike, "externalSchemas" | "lateBindingViews">,
): { readonly desired: GrantColumns; readonly diagnostics: readonly Diagnostic[] } {
  const external = inventory.externalSchemas ?? new Set<string>();
  const lateBinding = inventory.lateBindingViews ?? new Set<string>();
  if (external.size === 0 && lateBinding.size === 0) return { desired, diagnostics: [] };
  const kept = new GrantColumns();
  const inExternal = new Map<string, number>();
  const onLateBinding = new Map<string, number>();
  for (let i = 0; i < desired.length; i++) {
    const object = registry.objects[desired.object[i]!]!;
    if (external.has(object.schema)) {
      inExternal.set(object.schema, (inExternal.get(object.schema) ?? 0) + 1);
    } else if (desired.columns[i] !== 0 && object.table !== null && lateBinding.has(tableKey(object.schema, object.table))) {
      const name = `${object.schema}.${object.table}`;
      onLateBinding.set(name, (onLateBinding.get(name) ?? 0) + 1);
    } else {
      kept.push(desired.grantee[i]!, desired.privilege[i]!, desired.object[i]!, desired.columns[i]!, desired.because[i]!);
    }
  }
  if (inExternal.size === 0 && onLateBinding.size === 0) return { desired, diagnostics: [] };
  const diagnostics = [
    ...[...inExternal].map(([schema, n]) =>
      warning(`external schema ${schema}: ${n} grant${n === 1 ? "" : "s"} not applied; Lake Formation governs Spectrum access itself`),
    ),
    ...[...onLateBinding].map(([view, n]) =>
      warning(`late-binding view ${view}: ${n} column-level grant${n === 1 ? "" : "s"} not applied; Redshift has no column grants on late-binding views`),
    ),
  ];
  return { desired: kept, diagnostics };
}
