import {
  compareStrings,
  SCHEMA_PRIVILEGES,
  TABLE_PRIVILEGES,
  tableKey,
  granteeKey,
  type Grant,
  type Grantee,
  type ObjectRef,
  type Privilege,
} from "../core/grants.js";
import { quoteLiteral } from "../core/sql.js";
import { SyncError } from "../errors.js";
import type { Row, SqlExecutor } from "./executor.js";
import type { InventoryRequest, TargetInventory } from "./inventory-model.js";

/**
 * TargetInventory of a PostgreSQL database in five set-based queries, whatever the number of
 * objects (DESIGN §6). Privileges come from the ACL columns, which hold explicit grants only:
 * information_schema.column_privileges would also list columns implied by a table grant (aws-facts §7).
 *
 * The server does the heavy lifting: relations and columns sharing one ACL are grouped before the
 * ACL is exploded, so 10k tables with ~300k table grants and ~900k column privileges come back as a
 * few thousand rows of JSON text (JSON round-trips any name: quotes, commas, newlines, unicode).
 * ACL rows name relations by oid; their names come once, from the relation query.
 */

/** Relations a GRANT ... ON TABLE applies to: tables, views, materialized views, partitioned tables. */
const RELATION_KINDS = "('r', 'v', 'm', 'p')";

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") {
    throw new SyncError("TARGET_FAILED", `inventory query returned ${JSON.stringify(value)} for ${column}`);
  }
  return value;
}

/** OIDs are read as BIGINT, which the executors return as text (or as numbers, which would do too). */
function oid(row: Row, column: string): number {
  const value = row[column];
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) {
    throw new SyncError("TARGET_FAILED", `inventory query returned ${JSON.stringify(value)} for ${column}`);
  }
  return number;
}

function schemaFilter(request: InventoryRequest): string {
  const excluded = ["pg_catalog", "information_schema", ...request.excludeSchemas].map((name) => quoteLiteral(name, "postgres"));
  // pg_toast*, pg_temp_* and pg_toast_temp_* hold system objects, never catalog data.
  const only =
    request.onlySchemas === undefined ? "" : request.onlySchemas.length === 0 ? " AND FALSE" : ` AND n.nspname IN (${request.onlySchemas.map((name) => quoteLiteral(name, "postgres")).join(", ")})`;
  return `n.nspname NOT IN (${excluded.join(", ")}) AND n.nspname !~ '^pg_(toast|temp_)'${only}`;
}

const literals = (values: readonly string[]): string => values.map((value) => quoteLiteral(value, "postgres")).join(", ");

/**
 * The requested roles' oids, once per query: `acl.grantee = ANY (asked.oids)` keeps privileges of
 * other roles from ever being read. MATERIALIZED keeps the planner from re-evaluating (and costing)
 * the array once per ACL, which pushed the plans over the JIT thresholds.
 */
function askedRoles(roles: readonly string[]): string {
  return `asked AS MATERIALIZED (SELECT ARRAY(SELECT oid FROM pg_roles WHERE rolname = ANY (ARRAY[${literals(roles)}]::TEXT[])) AS oids)`;
}

/**
 * `[[role oid, privilege], ...]` of one ACL for the asked roles and the privileges the service
 * manages (PostgreSQL-only TRIGGER and MAINTAIN are not its business); NULL when none is left.
 */
function aclGrants(acl: string, privileges: readonly string[]): string {
  return `(SELECT json_agg(json_build_array(acl.grantee::BIGINT, acl.privilege_type))::TEXT
             FROM aclexplode(${acl}) acl
            WHERE acl.grantee = ANY (asked.oids) AND acl.privilege_type IN (${literals(privileges)}))`;
}

function inventoryQueries(request: InventoryRequest, roles: readonly string[]) {
  const where = schemaFilter(request);
  const asked = roles.length > 0;
  return {
    /** One row per relation, its column names in order as one JSON text: 10k rows instead of 200k. */
    relations: `SELECT c.oid::BIGINT AS oid, n.nspname AS schema_name, c.relname AS table_name,
                       to_json(ARRAY(SELECT a.attname FROM pg_attribute a
                                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                      ORDER BY a.attnum))::TEXT AS columns
                  FROM pg_class c
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ${RELATION_KINDS} AND ${where}
                 ORDER BY n.nspname, c.relname`,
    schemas: asked
      ? `WITH ${askedRoles(roles)}
         SELECT n.nspname AS schema_name, ${aclGrants("n.nspacl", SCHEMA_PRIVILEGES)} AS grants
           FROM pg_namespace n CROSS JOIN asked WHERE ${where}`
      : `SELECT n.nspname AS schema_name, NULL AS grants FROM pg_namespace n WHERE ${where}`,
    roles: "SELECT oid::BIGINT AS oid, rolname, rolsuper FROM pg_roles",
    /** One row per distinct relation ACL: the oids of the relations holding it and its grants. */
    relationAcls: asked
      ? `WITH ${askedRoles(roles)}
         SELECT g.oids, ${aclGrants("g.relacl", TABLE_PRIVILEGES)} AS grants
           FROM (SELECT c.relacl, json_agg(c.oid::BIGINT)::TEXT AS oids
                   FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relacl IS NOT NULL AND c.relkind IN ${RELATION_KINDS} AND ${where}
                  GROUP BY c.relacl) g
          CROSS JOIN asked`
      : null,
    /**
     * One row per relation and distinct column ACL: the columns holding it and its grants. The
     * grouping is MATERIALIZED so that it runs once: in a parallel plan every worker redid it.
     */
    columnAcls: asked
      ? `WITH ${askedRoles(roles)},
         g AS MATERIALIZED (
           SELECT a.attrelid, a.attacl, json_agg(a.attname)::TEXT AS columns
             FROM pg_attribute a
            WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
            GROUP BY a.attrelid, a.attacl)
         SELECT g.attrelid::BIGINT AS oid, g.columns, ${aclGrants("g.attacl", TABLE_PRIVILEGES)} AS grants
           FROM g
           JOIN pg_class c ON c.oid = g.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          CROSS JOIN asked
          WHERE c.relkind IN ${RELATION_KINDS} AND ${where}`
      : null,
  };
}

/** A privilege held by a requested grantee; `order` sorts holdings as compareHeld sorts grants. */
interface Holding {
  readonly grantee: Grantee;
  readonly privilege: Privilege;
  readonly order: number;
}

const PRIVILEGE_ORDER: ReadonlyMap<string, { readonly privilege: Privilege; readonly rank: number }> = new Map(
  [...SCHEMA_PRIVILEGES, ...TABLE_PRIVILEGES].sort(compareStrings).map((privilege, rank) => [privilege, { privilege, rank }]),
);
const PRIVILEGE_SLOTS = 16;
const KNOWN_TABLE_PRIVILEGES: ReadonlySet<string> = new Set(TABLE_PRIVILEGES);
const KNOWN_SCHEMA_PRIVILEGES: ReadonlySet<string> = new Set(SCHEMA_PRIVILEGES);

/**
 * Role name -> the requested grantees under that name (PostgreSQL has one namespace for both kinds),
 * each ranked by kind then name, the order of compareHeld. Every grant shares these objects.
 */
function rankGrantees(request: InventoryRequest): Map<string, { grantee: Grantee; rank: number }[]> {
  const unique = new Map<string, Grantee>();
  for (const { kind, name } of request.grantees) unique.set(granteeKey({ kind, name }), { kind, name });
  const sorted = [...unique.values()].sort((a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.name, b.name));
  const byName = new Map<string, { grantee: Grantee; rank: number }[]>();
  sorted.forEach((grantee, rank) => {
    const list = byName.get(grantee.name) ?? [];
    list.push({ grantee, rank });
    byName.set(grantee.name, list);
  });
  return byName;
}

/** Role oid -> the requested grantees under that role's name. */
type RolesByOid = ReadonlyMap<number, readonly { grantee: Grantee; rank: number }[]>;

/**
 * Reads the holdings an ACL's `[[role oid, privilege], ...]` JSON gives, in held order, without
 * duplicates (an ACL lists a privilege once per grantor). Many relations share an ACL, so each
 * distinct text is read once. A role the roles query did not see was created in between: skipped,
 * as if the ACL had been read first.
 */
function holdingsReader(roles: RolesByOid, known: ReadonlySet<string>): (json: string | null) => readonly Holding[] {
  const read = new Map<string, readonly Holding[]>();
  return (json) => {
    if (json === null) return [];
    const cached = read.get(json);
    if (cached !== undefined) return cached;
    const holdings: Holding[] = [];
    for (const [role, privilegeName] of JSON.parse(json) as [number, string][]) {
      const privilege = PRIVILEGE_ORDER.get(privilegeName);
      if (privilege === undefined || !known.has(privilegeName)) continue;
      for (const { grantee, rank } of roles.get(role) ?? []) {
        holdings.push({ grantee, privilege: privilege.privilege, order: rank * PRIVILEGE_SLOTS + privilege.rank });
      }
    }
    holdings.sort((a, b) => a.order - b.order);
    const distinct = holdings.filter((holding, i) => i === 0 || holdings[i - 1]!.order !== holding.order);
    read.set(json, distinct);
    return distinct;
  };
}

interface Relation {
  readonly schema: string;
  readonly table: string;
  /** Shared by this relation's table-level grants. */
  readonly object: ObjectRef;
  tableHoldings: readonly Holding[];
  readonly columnGroups: ColumnGroup[];
}

/** Columns of one relation sharing one ACL, sorted, and what that ACL gives. */
interface ColumnGroup {
  readonly columns: readonly string[];
  readonly holdings: readonly Holding[];
}

interface Roles {
  /** granteeKey of every role under both kinds. */
  readonly grantees: Set<string>;
  /** Roles with SUPERUSER: a mapping naming one is refused (issue 13 item 14). */
  readonly superusers: Set<string>;
  readonly tableHoldingsOf: (json: string | null) => readonly Holding[];
  readonly schemaHoldingsOf: (json: string | null) => readonly Holding[];
}

function readRoles(rows: readonly Row[], ranks: ReturnType<typeof rankGrantees>): Roles {
  const grantees = new Set<string>();
  const superusers = new Set<string>();
  const asked = new Map<number, readonly { grantee: Grantee; rank: number }[]>();
  for (const row of rows) {
    const name = text(row, "rolname");
    if (row["rolsuper"] === true || row["rolsuper"] === "t") superusers.add(name);
    grantees.add(granteeKey({ kind: "group", name }));
    grantees.add(granteeKey({ kind: "role", name }));
    const ranked = ranks.get(name);
    if (ranked !== undefined) asked.set(oid(row, "oid"), ranked);
  }
  return {
    grantees,
    superusers,
    tableHoldingsOf: holdingsReader(asked, KNOWN_TABLE_PRIVILEGES),
    schemaHoldingsOf: holdingsReader(asked, KNOWN_SCHEMA_PRIVILEGES),
  };
}

function readRelations(rows: readonly Row[]): { relations: Map<number, Relation>; tables: Map<string, ReadonlySet<string>> } {
  // One string per schema name: sorting then compares identical strings, which is quick.
  const schemaNames = new Map<string, string>();
  const relations = new Map<number, Relation>();
  const tables = new Map<string, ReadonlySet<string>>();
  for (const row of rows) {
    const name = text(row, "schema_name");
    const schema = schemaNames.get(name) ?? name;
    schemaNames.set(schema, schema);
    const table = text(row, "table_name");
    tables.set(tableKey(schema, table), new Set(JSON.parse(text(row, "columns")) as string[]));
    relations.set(oid(row, "oid"), { schema, table, object: { schema, table, columns: null }, tableHoldings: [], columnGroups: [] });
  }
  return { relations, tables };
}

/** Column-level grants of one relation in held order: one per holding, with the columns of every group giving it. */
function columnGrants(relation: Relation): { holdings: readonly Holding[]; objects: readonly ObjectRef[] } {
  const { schema, table, columnGroups } = relation;
  if (columnGroups.length === 1) {
    const { columns, holdings } = columnGroups[0]!;
    const object: ObjectRef = { schema, table, columns };
    return { holdings, objects: holdings.map(() => object) };
  }
  const merged = new Map<number, { holding: Holding; columns: Set<string> }>();
  for (const group of columnGroups) {
    for (const holding of group.holdings) {
      const entry = merged.get(holding.order) ?? { holding, columns: new Set<string>() };
      for (const column of group.columns) entry.columns.add(column);
      merged.set(holding.order, entry);
    }
  }
  const entries = [...merged.values()].sort((a, b) => a.holding.order - b.holding.order);
  return {
    holdings: entries.map((entry) => entry.holding),
    objects: entries.map((entry): ObjectRef => ({ schema, table, columns: [...entry.columns].sort(compareStrings) })),
  };
}

/** Appends the relation's grants in held order; a table-level grant precedes a column-level one of the same slot. */
function pushRelationGrants(relation: Relation, held: Grant[]): void {
  const tableLevel = relation.tableHoldings;
  const columnLevel = columnGrants(relation);
  let t = 0;
  let c = 0;
  while (t < tableLevel.length || c < columnLevel.holdings.length) {
    const next = columnLevel.holdings[c];
    if (t < tableLevel.length && (next === undefined || tableLevel[t]!.order <= next.order)) {
      const { grantee, privilege } = tableLevel[t++]!;
      held.push({ grantee, privilege, object: relation.object });
    } else {
      held.push({ grantee: next!.grantee, privilege: next!.privilege, object: columnLevel.objects[c++]! });
    }
  }
}

const compareRelations = (a: Relation, b: Relation): number => compareStrings(a.schema, b.schema) || compareStrings(a.table, b.table);

export async function readPostgresInventory(executor: SqlExecutor, request: InventoryRequest): Promise<TargetInventory> {
  const ranks = rankGrantees(request);
  const sql = inventoryQueries(request, [...ranks.keys()].sort(compareStrings));
  const noRows = Promise.resolve<Row[]>([]);
  // The heaviest first: the executor's pool runs a few queries at once, in the order asked. Rows are
  // read as soon as they arrive, while the slower queries still run.
  const relationRows = executor.query(sql.relations);
  const columnAclRows = sql.columnAcls === null ? noRows : executor.query(sql.columnAcls);
  const relationAclRows = sql.relationAcls === null ? noRows : executor.query(sql.relationAcls);
  const roles = executor.query(sql.roles).then((rows) => readRoles(rows, ranks));
  const schemaRows = executor.query(sql.schemas);
  const [{ relations, tables }, { grantees, superusers, schemaHoldingsOf }, relationAcls, columnAcls, schemaAcls] = await Promise.all([
    relationRows.then(readRelations),
    roles,
    Promise.all([relationAclRows, roles]).then(([rows, { tableHoldingsOf }]) =>
      rows.map((row) => ({ oids: JSON.parse(text(row, "oids")) as number[], holdings: tableHoldingsOf(nullableText(row, "grants")) })),
    ),
    Promise.all([columnAclRows, roles]).then(([rows, { tableHoldingsOf }]) =>
      rows.map((row) => ({
        oid: oid(row, "oid"),
        group: { columns: (JSON.parse(text(row, "columns")) as string[]).sort(compareStrings), holdings: tableHoldingsOf(nullableText(row, "grants")) },
      })),
    ),
    schemaRows,
  ]);
  const holding = attachAcls(relations, relationAcls, columnAcls);
  const { schemas, schemaHoldings } = readSchemaAcls(schemaAcls, schemaHoldingsOf);
  return { schemas, tables, grantees, held: heldInOrder(holding, schemaHoldings), superusers };
}

/**
 * Each ACL onto its relations; returns the relations that hold anything. A relation the ACL
 * queries see but the relation query did not was created in between: skipped, as if the ACL
 * queries had run first.
 */
function attachAcls(
  relations: ReadonlyMap<number, Relation>,
  relationAcls: readonly { oids: readonly number[]; holdings: readonly Holding[] }[],
  columnAcls: readonly { oid: number; group: ColumnGroup }[],
): Relation[] {
  const holding: Relation[] = [];
  const holds = (relation: Relation): void => {
    if (relation.tableHoldings.length === 0 && relation.columnGroups.length === 0) holding.push(relation);
  };
  for (const { oids, holdings } of relationAcls) {
    if (holdings.length === 0) continue;
    for (const id of oids) {
      const relation = relations.get(id);
      if (relation === undefined) continue;
      holds(relation);
      relation.tableHoldings = holdings;
    }
  }
  for (const { oid: id, group } of columnAcls) {
    const relation = relations.get(id);
    if (group.holdings.length === 0 || relation === undefined) continue;
    holds(relation);
    relation.columnGroups.push(group);
  }
  return holding;
}

interface SchemaHoldings {
  readonly schema: string;
  readonly holdings: readonly Holding[];
}

function readSchemaAcls(rows: readonly Row[], schemaHoldingsOf: (json: string | null) => readonly Holding[]): { schemas: Set<string>; schemaHoldings: SchemaHoldings[] } {
  const schemas = new Set<string>();
  const schemaHoldings: SchemaHoldings[] = [];
  for (const row of rows) {
    const schema = text(row, "schema_name");
    schemas.add(schema);
    const holdings = schemaHoldingsOf(nullableText(row, "grants"));
    if (holdings.length > 0) schemaHoldings.push({ schema, holdings });
  }
  return { schemas, schemaHoldings };
}

/**
 * Held order (compareHeld): schema, then table with the schema's own grants first, then grantee
 * kind and name, then privilege. Relations arrive nearly sorted, so this sort is cheap.
 */
function heldInOrder(holding: Relation[], schemaHoldings: SchemaHoldings[]): Grant[] {
  holding.sort(compareRelations);
  schemaHoldings.sort((a, b) => compareStrings(a.schema, b.schema));
  const held: Grant[] = [];
  let s = 0;
  const pushSchemaGrants = (): void => {
    const { schema, holdings } = schemaHoldings[s++]!;
    const object: ObjectRef = { schema, table: null, columns: null };
    for (const { grantee, privilege } of holdings) held.push({ grantee, privilege, object });
  };
  for (const relation of holding) {
    while (s < schemaHoldings.length && compareStrings(schemaHoldings[s]!.schema, relation.schema) <= 0) pushSchemaGrants();
    pushRelationGrants(relation, held);
  }
  while (s < schemaHoldings.length) pushSchemaGrants();
  return held;
}

function nullableText(row: Row, column: string): string | null {
  return row[column] === null ? null : text(row, column);
}
