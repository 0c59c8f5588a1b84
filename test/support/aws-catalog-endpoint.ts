/**
 * A stateful local Lake Formation + Glue endpoint for the real SDK clients: it serves a
 * CatalogSnapshot (Glue databases and tables in pages of 100, assigned LF-tags per resource, tag
 * policies by ListPermissions resource type, saved expressions), counts every call by operation,
 * and changes underneath the service like a real catalog (tags assigned, policies granted, tables
 * dropped). Optional fault injection: a per-call latency, and throttling above a capacity of calls
 * in flight. Used by the source's tests and by the latency bench (bench/latency.ts).
 */
import type { CatalogSnapshot, Expression, PolicyEntry, TagMap } from "../../src/catalog/model.js";
import { startFakeAwsEndpoint, type FakeAwsEndpoint, type FakeAwsReply } from "./aws-endpoint.js";

export interface CatalogEndpointOptions {
  /** Added to every call before it answers (a real call takes tens of ms). */
  readonly latencyMs?: number;
  /** GetResourceLFTags beyond this many in flight answer ThrottlingException (429). */
  readonly capacity?: number;
  /** GetDataLakeSettings' ReadOnlyAdmins (the start-up administrator check reads them). */
  readonly readOnlyAdmins?: readonly string[];
}

interface TableState {
  tags: TagMap;
  columns: { name: string; tags: TagMap }[];
}

interface DatabaseState {
  tags: TagMap;
  readonly tables: Map<string, TableState>;
}

export interface CatalogEndpoint {
  readonly url: string;
  /** Calls by operation name since the last reset. */
  readonly counts: Map<string, number>;
  resetCounts(): void;
  /** Lake Formation and Glue calls since the last reset. */
  totals(): { readonly lakeFormation: number; readonly glue: number; readonly throttled: number };
  /** AddLFTagsToResource on a table: these keys now hold these values. */
  assignTableTags(database: string, table: string, tags: TagMap): void;
  /** GrantPermissions on an LF-tag policy. */
  grantPolicy(policy: PolicyEntry): void;
  dropTable(database: string, table: string): void;
  close(): Promise<void>;
}

const GLUE_OPERATIONS = new Set(["GetDatabases", "GetDatabase", "GetTables", "GetTable"]);
/** Start-up checks, not part of a read. */
const NOT_COUNTED = new Set(["GetDataLakeSettings"]);
const PAGE = 100;

export async function startCatalogEndpoint(snapshot: CatalogSnapshot, options: CatalogEndpointOptions = {}): Promise<CatalogEndpoint> {
  const account = snapshot.catalogId ?? "123456789012";
  const databases = new Map<string, DatabaseState>();
  for (const db of snapshot.databases) {
    databases.set(db.name, { tags: db.tags, tables: new Map(db.tables.map((t) => [t.name, { tags: t.tags, columns: t.columns.map((c) => ({ ...c })) }])) });
  }
  const tags = new Map(Object.entries(snapshot.tags).map(([k, v]) => [k, [...v]]));
  const expressions = new Map<string, Expression>(Object.entries(snapshot.expressions));
  const policies: PolicyEntry[] = [...snapshot.policies];
  const counts = new Map<string, number>();
  let throttled = 0;
  let inFlight = 0;

  const answer = (operation: string, body: Record<string, unknown>): FakeAwsReply => {
    const handler = HANDLERS[operation];
    if (handler === undefined) return { status: 400, errorType: "InvalidInputException", body: { message: `the local endpoint does not serve ${operation}` } };
    return handler(body, { account, databases, tags, expressions, policies, readOnlyAdmins: options.readOnlyAdmins ?? [] });
  };

  const endpoint: FakeAwsEndpoint = await startFakeAwsEndpoint(async (operation, body) => {
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    if (operation === "GetResourceLFTags" && options.capacity !== undefined && inFlight >= options.capacity) {
      throttled++;
      return { status: 429, errorType: "ThrottlingException", body: { message: "Rate exceeded" } };
    }
    inFlight++;
    try {
      if (options.latencyMs !== undefined && options.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      return answer(operation, body as Record<string, unknown>);
    } finally {
      inFlight--;
    }
  });
  // The fake endpoint also keeps every operation name and signer: a 100k-table read would hold 100k of each.
  const forget = setInterval(() => {
    endpoint.calls.length = 0;
    endpoint.signers.length = 0;
  }, 1000);

  return {
    url: endpoint.url,
    counts,
    resetCounts: () => {
      counts.clear();
      throttled = 0;
    },
    totals: () => {
      let lakeFormation = 0;
      let glue = 0;
      for (const [operation, n] of counts) {
        if (NOT_COUNTED.has(operation)) continue;
        if (GLUE_OPERATIONS.has(operation)) glue += n;
        else lakeFormation += n;
      }
      return { lakeFormation, glue, throttled };
    },
    assignTableTags: (database, table, assigned) => {
      const state = databases.get(database)?.tables.get(table);
      if (state === undefined) throw new Error(`no table ${database}.${table}`);
      state.tags = { ...state.tags, ...assigned };
    },
    grantPolicy: (policy) => policies.push(policy),
    dropTable: (database, table) => databases.get(database)?.tables.delete(table),
    close: async () => {
      clearInterval(forget);
      await endpoint.close();
    },
  };
}

interface State {
  readonly account: string;
  readonly databases: Map<string, DatabaseState>;
  readonly tags: Map<string, string[]>;
  readonly expressions: Map<string, Expression>;
  readonly policies: PolicyEntry[];
  readonly readOnlyAdmins: readonly string[];
}

type Handler = (body: Record<string, unknown>, state: State) => FakeAwsReply;

const ok = (body: unknown): FakeAwsReply => ({ status: 200, body });
const notFound = (what: string): FakeAwsReply => ({ status: 400, errorType: "EntityNotFoundException", body: { __type: "EntityNotFoundException", message: `${what} not found` } });
const pairs = (tags: TagMap, account: string) => Object.entries(tags).map(([TagKey, value]) => ({ CatalogId: account, TagKey, TagValues: [value] }));
const lfTags = (expression: Expression) => Object.entries(expression).map(([TagKey, values]) => ({ TagKey, TagValues: [...values] }));

/** One page of `items` from the index in NextToken (absent on the last page). */
function page<T>(items: readonly T[], token: unknown): { items: T[]; NextToken?: string } {
  const start = typeof token === "string" ? Number(token) : 0;
  const end = start + PAGE;
  return { items: items.slice(start, end), ...(end < items.length ? { NextToken: String(end) } : {}) };
}

function glueTable(account: string, database: string, name: string, table: TableState) {
  return { Name: name, DatabaseName: database, CatalogId: account, StorageDescriptor: { Columns: table.columns.map((c) => ({ Name: c.name, Type: "string" })) }, PartitionKeys: [] };
}

function policyPermission(policy: PolicyEntry, account: string) {
  return {
    Principal: { DataLakePrincipalIdentifier: policy.principal },
    Resource: {
      LFTagPolicy: {
        CatalogId: account,
        ResourceType: policy.resourceType,
        Expression: policy.expression === undefined ? [] : lfTags(policy.expression),
        ...(policy.expressionName === undefined ? {} : { ExpressionName: policy.expressionName }),
      },
    },
    Permissions: [...policy.permissions],
    PermissionsWithGrantOption: [...(policy.permissionsWithGrantOption ?? [])],
  };
}

const HANDLERS: Record<string, Handler> = {
  GetDataLakeSettings: (_body, s) => ok({ DataLakeSettings: { DataLakeAdmins: [], ReadOnlyAdmins: s.readOnlyAdmins.map((arn) => ({ DataLakePrincipalIdentifier: arn })) } }),
  GetDatabases: (body, s) => {
    const { items, NextToken } = page([...s.databases.keys()].sort(), body.NextToken);
    return ok({ DatabaseList: items.map((Name) => ({ Name, CatalogId: s.account })), ...(NextToken === undefined ? {} : { NextToken }) });
  },
  GetDatabase: (body, s) => (s.databases.has(String(body.Name)) ? ok({ Database: { Name: body.Name, CatalogId: s.account } }) : notFound(`database ${String(body.Name)}`)),
  GetTables: (body, s) => {
    const db = s.databases.get(String(body.DatabaseName));
    if (db === undefined) return notFound(`database ${String(body.DatabaseName)}`);
    const { items, NextToken } = page([...db.tables.keys()].sort(), body.NextToken);
    return ok({ TableList: items.map((name) => glueTable(s.account, String(body.DatabaseName), name, db.tables.get(name)!)), ...(NextToken === undefined ? {} : { NextToken }) });
  },
  GetTable: (body, s) => {
    const table = s.databases.get(String(body.DatabaseName))?.tables.get(String(body.Name));
    return table === undefined ? notFound(`table ${String(body.DatabaseName)}.${String(body.Name)}`) : ok({ Table: glueTable(s.account, String(body.DatabaseName), String(body.Name), table) });
  },
  ListLFTags: (_body, s) => ok({ LFTags: [...s.tags].map(([TagKey, TagValues]) => ({ CatalogId: s.account, TagKey, TagValues })) }),
  ListPermissions: (body, s) => {
    const type = String(body.ResourceType);
    const matching = s.policies.filter((p) => type === "LF_TAG_POLICY" || type === `LF_TAG_POLICY_${p.resourceType}`);
    const { items, NextToken } = page(matching, body.NextToken);
    return ok({ PrincipalResourcePermissions: items.map((p) => policyPermission(p, s.account)), ...(NextToken === undefined ? {} : { NextToken }) });
  },
  ListLFTagExpressions: (_body, s) => ok({ LFTagExpressions: [...s.expressions].map(([Name, e]) => ({ Name, CatalogId: s.account, Expression: lfTags(e) })) }),
  GetLFTagExpression: (body, s) => {
    const e = s.expressions.get(String(body.Name));
    return e === undefined ? notFound(`expression ${String(body.Name)}`) : ok({ Name: body.Name, CatalogId: s.account, Expression: lfTags(e) });
  },
  GetResourceLFTags: (body, s) => {
    const resource = (body.Resource ?? {}) as { Database?: { Name?: string }; Table?: { DatabaseName?: string; Name?: string } };
    if (resource.Database !== undefined) {
      const db = s.databases.get(String(resource.Database.Name));
      return db === undefined ? notFound(`database ${String(resource.Database.Name)}`) : ok({ LFTagOnDatabase: pairs(db.tags, s.account) });
    }
    const table = s.databases.get(String(resource.Table?.DatabaseName))?.tables.get(String(resource.Table?.Name));
    if (table === undefined) return notFound(`table ${String(resource.Table?.DatabaseName)}.${String(resource.Table?.Name)}`);
    const columns = table.columns.filter((c) => Object.keys(c.tags).length > 0).map((c) => ({ Name: c.name, LFTags: pairs(c.tags, s.account) }));
    return ok({ LFTagsOnTable: pairs(table.tags, s.account), LFTagsOnColumns: columns });
  },
};
