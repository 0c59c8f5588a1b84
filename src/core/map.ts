import type { MappingConfig } from "../config/schema.js";
import { type Diagnostic, error, warning } from "./diagnostics.js";
import {
  type DesiredGrant,
  type Dialect,
  type Grantee,
  type Privilege,
  type TablePrivilege,
  compareStrings,
  SlotMap,
} from "./grants.js";
import type { Entitlements, LfTablePermission } from "./resolve.js";

/** Identifier limits in bytes (DESIGN §3): longer names are errors, never truncated. */
export const MAX_IDENTIFIER_BYTES: Record<Dialect, number> = { redshift: 127, postgres: 63 };

/** LF table permission -> target privileges, per dialect (DESIGN §3). PostgreSQL has no DROP privilege. */
const DEFAULT_PRIVILEGES: Record<Dialect, Record<LfTablePermission, readonly TablePrivilege[]>> = {
  redshift: { SELECT: ["SELECT"], INSERT: ["INSERT"], DELETE: ["DELETE"], DROP: ["DROP"], ALTER: [], DESCRIBE: [] },
  postgres: { SELECT: ["SELECT"], INSERT: ["INSERT"], DELETE: ["DELETE"], DROP: [], ALTER: [], DESCRIBE: [] },
};

export interface DesiredState {
  readonly grants: readonly DesiredGrant[];
  /** Every grantee a policy maps to, including those with nothing to hold right now. */
  readonly grantees: readonly Grantee[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Entitlements -> the grants Redshift should hold (DESIGN §3): principals to grantees, Glue names
 * to Redshift names, LF permissions to privileges, and schema USAGE/CREATE.
 */
export function mapEntitlements(entitlements: Entitlements, mapping: MappingConfig, dialect: Dialect): DesiredState {
  const diagnostics: Diagnostic[] = [];
  const granteeOf = principalMapper(mapping, diagnostics, MAX_IDENTIFIER_BYTES[dialect]);
  const schemaOf = schemaMapper(mapping);
  const nameOf = identifierMapper(dialect, diagnostics);
  const privilegeMap = { ...DEFAULT_PRIVILEGES[dialect], ...mapping.privileges } as Record<LfTablePermission, readonly TablePrivilege[]>;
  const labels = entitlements.policyLabels;

  // slot -> grant under construction; because holds policy indexes until the end.
  const slots = new SlotMap<{ grantee: Grantee; privilege: Privilege; schema: string; table: string | null; columns: string[] | null; because: Set<number> }>();
  const add = (grantee: Grantee, privilege: Privilege, schema: string, table: string | null, columns: string[] | null, because: Iterable<number>) => {
    let slot = slots.getAt(grantee, schema, table, privilege);
    if (slot === undefined) {
      slot = { grantee, privilege, schema, table, columns, because: new Set() };
      slots.setAt(grantee, schema, table, privilege, slot);
    } else if (slot.columns !== null) {
      // Two principals mapped to one grantee: the union of what each may do.
      slot.columns = columns === null ? null : [...new Set([...slot.columns, ...columns])].sort(compareStrings);
    }
    for (const i of because) slot.because.add(i);
  };

  const granteesSeen = new Map<string, Grantee>();
  for (const entitlement of entitlements.databases) {
    const grantee = granteeOf(entitlement.principal);
    const schemaName = schemaOf(entitlement.database);
    if (grantee === null || schemaName === null) continue;
    granteesSeen.set(`${grantee.kind}:${grantee.name}`, grantee);
    const schema = nameOf(schemaName, () => `database ${entitlement.database}`);
    if (schema === null) continue;
    for (const [permission, because] of entitlement.permissions) {
      // LF database DESCRIBE -> schema USAGE; CREATE_TABLE -> schema CREATE (DESIGN §3).
      if (permission === "DESCRIBE") add(grantee, "USAGE", schema, null, null, because);
      if (permission === "CREATE_TABLE") add(grantee, "CREATE", schema, null, null, because);
    }
  }

  for (const entitlement of entitlements.tables) {
    const grantee = granteeOf(entitlement.principal);
    const schemaName = schemaOf(entitlement.database);
    if (grantee === null || schemaName === null) continue;
    granteesSeen.set(`${grantee.kind}:${grantee.name}`, grantee);
    const schema = nameOf(schemaName, () => `database ${entitlement.database}`);
    const table = nameOf(entitlement.table, () => `table ${entitlement.database}.${entitlement.table}`);
    if (schema === null || table === null) continue;
    const usageBecause = new Set<number>();
    for (const [permission, because] of entitlement.full) {
      for (const privilege of privilegeMap[permission]) {
        add(grantee, privilege, schema, table, null, because);
        because.forEach((i) => usageBecause.add(i));
      }
    }
    const subset = entitlement.columnSelect;
    if (subset !== null && !entitlement.full.has("SELECT")) {
      const columns = subset.columns.map((c) => nameOf(c, () => `column ${entitlement.database}.${entitlement.table}.${c}`));
      const valid = columns.filter((c): c is string => c !== null);
      if (valid.length > 0) {
        add(grantee, "SELECT", schema, table, [...new Set(valid)].sort(compareStrings), subset.because);
        subset.because.forEach((i) => usageBecause.add(i));
      }
    }
    // Any table or column privilege implies USAGE on its schema, managed like any other grant.
    if (usageBecause.size > 0) add(grantee, "USAGE", schema, null, null, usageBecause);
  }

  // Most slots share their explanation with many others (one policy, many tables): build each
  // distinct list of labels once.
  const becauseLists = new Map<string, readonly string[]>();
  const becauseOf = (indexes: ReadonlySet<number>): readonly string[] => {
    const sorted = indexes.size === 1 ? [...indexes] : [...indexes].sort((a, b) => a - b);
    const key = sorted.join(",");
    let list = becauseLists.get(key);
    if (list === undefined) becauseLists.set(key, (list = sorted.map((i) => labels[i] ?? `policy#${i}`)));
    return list;
  };
  const grants: DesiredGrant[] = [];
  for (const s of slots.values()) {
    grants.push({ grantee: s.grantee, privilege: s.privilege, object: { schema: s.schema, table: s.table, columns: s.columns }, because: becauseOf(s.because) });
  }
  return { grants, grantees: [...granteesSeen.values()], diagnostics };
}

function principalMapper(mapping: MappingConfig, diagnostics: Diagnostic[], maxBytes: number): (principal: string) => Grantee | null {
  const rules = mapping.principalRules.map((rule) => ({ ...rule, regex: new RegExp(rule.match) }));
  const cache = new Map<string, Grantee | null>();
  return (principal) => {
    const cached = cache.get(principal);
    if (cached !== undefined || cache.has(principal)) return cached ?? null;
    let grantee: Grantee | null = null;
    const explicit = Object.hasOwn(mapping.principals, principal) ? mapping.principals[principal] : undefined;
    if (typeof explicit === "string") grantee = { kind: "group", name: explicit };
    else if (explicit !== undefined) grantee = { kind: explicit.kind, name: explicit.name };
    else {
      for (const rule of rules) {
        const m = rule.regex.exec(principal);
        if (m === null || m[0] !== principal) continue;
        const name = principal.replace(rule.regex, rule.grantee);
        grantee = { kind: rule.kind, name: rule.lowercase ? name.toLowerCase() : name };
        break;
      }
    }
    if (grantee === null) diagnostics.push(warning(`principal ${principal} has no grantee mapping: its policies are not applied`));
    else if (grantee.name.length === 0 || grantee.name.includes("\u0000") || Buffer.byteLength(grantee.name, "utf8") > maxBytes) {
      // The target would truncate the name and grant to another grantee (DESIGN §3: never truncated).
      diagnostics.push(error(`principal ${principal}: grantee name ${JSON.stringify(grantee.name)} is empty, contains NUL or is longer than ${maxBytes} bytes: skipped, never truncated`));
      grantee = null;
    }
    cache.set(principal, grantee);
    return grantee;
  };
}

function schemaMapper(mapping: MappingConfig): (database: string) => string | null {
  const isIncluded = globMatcher(mapping.databases.include);
  const isExcluded = globMatcher(mapping.databases.exclude);
  const cache = new Map<string, string | null>();
  return (database) => {
    let schema = cache.get(database);
    if (schema === undefined) {
      schema = !isIncluded(database) || isExcluded(database) ? null : Object.hasOwn(mapping.databases.rename, database) ? mapping.databases.rename[database]! : database;
      cache.set(database, schema);
    }
    return schema;
  };
}

/**
 * `*` (any run of characters) and `?` (one character) over whole Glue names. Glue names may contain
 * `/`, which path-glob libraries treat as a separator that `*` cannot cross.
 */
export function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const body = patterns
    .map((p) => [...p].map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&"))).join(""))
    .join("|");
  const regex = new RegExp(`^(?:${body})$`, "su");
  return (name) => regex.test(name);
}

/**
 * Redshift folds quoted ASCII letters to lower case (aws-facts §6.5, trap 9), so names are compared
 * and rendered lower-cased there; PostgreSQL keeps quoted names as they are.
 */
function identifierMapper(dialect: Dialect, diagnostics: Diagnostic[]): (name: string, what: () => string) => string | null {
  const max = MAX_IDENTIFIER_BYTES[dialect];
  const reported = new Set<string>();
  // Names repeat across principals (one table, many grantees): map each distinct name once.
  const cache = new Map<string, string | null>();
  return (name, what) => {
    let mapped = cache.get(name);
    if (mapped === undefined) {
      const folded = dialect === "redshift" ? name.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : name;
      mapped = Buffer.byteLength(folded, "utf8") > max || folded.length === 0 || folded.includes("\u0000") ? null : folded;
      cache.set(name, mapped);
    }
    if (mapped === null) {
      const where = what();
      if (!reported.has(where)) {
        reported.add(where);
        diagnostics.push(error(`${where}: name is empty, contains NUL or is longer than ${max} bytes (the ${dialect} limit): skipped, never truncated`));
      }
    }
    return mapped;
  };
}
