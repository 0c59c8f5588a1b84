import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import type { CatalogSnapshot } from "../../src/catalog/model.js";
import { parseSnapshot, serializeSnapshot, snapshotFormatOf, type SnapshotFormat } from "../../src/catalog/snapshot.js";
import { SyncError } from "../../src/errors.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test fixtures are mutated freely

/** A valid file in the shape of DESIGN §4.1; each row below breaks one thing in it. */
function validFile(): Json {
  return {
    catalogId: "123456789012",
    tags: { Access: ["Public", "Internal", "Restricted"], PII: ["true", "false"] },
    databases: [
      {
        name: "sales",
        tags: { Access: "Internal", PII: "false" },
        tables: [
          { name: "orders", tags: { Access: "Public" }, columns: [{ name: "order_id" }, { name: "amount" }] },
          { name: "refunds", columns: [{ name: "refund_id" }] },
          { name: "returns", columns: [{ name: "return_id" }] },
          { name: "customers", columns: [{ name: "customer_id" }, { name: "email", tags: { PII: "true" } }] },
        ],
      },
      { name: "hr", tags: { Access: "Restricted" }, tables: [] },
    ],
    expressions: { public_data: { Access: ["Public"] } },
    policies: [
      {
        principal: "arn:aws:iam::123456789012:role/analyst",
        resourceType: "TABLE",
        expression: { Access: ["Public", "Internal"], PII: ["false"] },
        permissions: ["SELECT", "DESCRIBE"],
      },
      { principal: "arn:aws:iam::123456789012:role/bi", resourceType: "TABLE", expressionName: "public_data", permissions: ["SELECT"] },
    ],
  };
}

function render(file: unknown, format: SnapshotFormat): string {
  return format === "json" ? JSON.stringify(file) : stringifyYaml(file);
}

function snapshotError(text: string, format: SnapshotFormat): SyncError {
  try {
    parseSnapshot(text, format, `catalog.${format}`);
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error("the snapshot was accepted");
}

const FORMATS: readonly SnapshotFormat[] = ["yaml", "json"];

describe("parseSnapshot validation", () => {
  const rows: readonly { case: string; breakIt: (file: Json) => void; problem: string }[] = [
    {
      case: "unknown tag key on a column",
      breakIt: (f) => (f.databases[0].tables[3].columns[1].tags = { Sensitivity: "high" }),
      problem: 'databases[0].tables[3].columns[1].tags.Sensitivity: unknown tag key "Sensitivity"',
    },
    {
      case: "value not allowed for its key",
      breakIt: (f) => (f.databases[0].tables[3].columns[1].tags.PII = "maybe"),
      problem: 'databases[0].tables[3].columns[1].tags.PII: value "maybe" is not allowed for tag key "PII" (allowed: true, false)',
    },
    {
      case: "a list where one value per key is allowed",
      breakIt: (f) => (f.databases[0].tags.Access = ["Public", "Internal"]),
      problem: "databases[0].tags.Access: expected one tag value",
    },
    {
      case: "one key assigned twice in different case",
      breakIt: (f) => (f.databases[0].tables[0].tags.access = "Internal"),
      problem: 'databases[0].tables[0].tags.access: tag key assigned twice (also as "Access")',
    },
    {
      case: "duplicate database names, case-insensitively",
      breakIt: (f) => f.databases.push({ name: "SALES", tables: [] }),
      problem: 'databases[2].name: duplicate database name "SALES" (also at databases[0])',
    },
    {
      case: "duplicate table names in a database",
      breakIt: (f) => (f.databases[0].tables[2].name = "Orders"),
      problem: 'databases[0].tables[2].name: duplicate table name "Orders" (also at databases[0].tables[0])',
    },
    {
      case: "duplicate column names in a table",
      breakIt: (f) => (f.databases[0].tables[0].columns[1].name = "ORDER_ID"),
      problem: 'databases[0].tables[0].columns[1].name: duplicate column name "ORDER_ID"',
    },
    {
      case: "a policy with both expression and expressionName",
      breakIt: (f) => (f.policies[1].expression = { Access: ["Public"] }),
      problem: "policies[1]: set either expression or expressionName, not both",
    },
    {
      case: "a policy with neither expression nor expressionName",
      breakIt: (f) => delete f.policies[0].expression,
      problem: "policies[0]: set expression (a non-empty key -> values map) or expressionName",
    },
    {
      case: "an empty inline expression alone (it means 'not inlined', aws-facts trap 3)",
      breakIt: (f) => (f.policies[0].expression = {}),
      problem: "policies[0]: set expression",
    },
    {
      case: "expressionName not defined",
      breakIt: (f) => (f.policies[1].expressionName = "nope"),
      problem: 'policies[1].expressionName: expression "nope" is not defined in expressions',
    },
    {
      case: "expression key not in the ontology",
      breakIt: (f) => (f.policies[0].expression.Region = ["eu"]),
      problem: 'policies[0].expression.Region[0]: unknown tag key "Region"',
    },
    {
      case: "expression key not in the ontology, with the value *",
      breakIt: (f) => (f.policies[0].expression.Region = ["*"]),
      problem: 'policies[0].expression.Region: unknown tag key "Region"',
    },
    {
      case: "expression value not allowed",
      breakIt: (f) => (f.policies[0].expression.Access = ["Public", "Secret"]),
      problem: 'policies[0].expression.Access[1]: value "Secret" is not allowed for tag key "Access"',
    },
    {
      case: "expression key with no values",
      breakIt: (f) => (f.policies[0].expression.Access = []),
      problem: "policies[0].expression.Access: Too small",
    },
    {
      case: "named expression value not allowed",
      breakIt: (f) => (f.expressions.public_data.Access = ["Open"]),
      problem: 'expressions.public_data.Access[0]: value "Open" is not allowed for tag key "Access"',
    },
    {
      case: "empty named expression",
      breakIt: (f) => (f.expressions.nothing = {}),
      problem: "expressions.nothing: an expression needs at least one tag key",
    },
    {
      case: "unknown permission",
      breakIt: (f) => (f.policies[0].permissions[1] = "READ"),
      problem: 'policies[0].permissions[1]: unknown Lake Formation permission "READ"',
    },
    {
      case: "unknown permission with grant option",
      breakIt: (f) => (f.policies[0].permissionsWithGrantOption = ["SELEKT"]),
      problem: 'policies[0].permissionsWithGrantOption[0]: unknown Lake Formation permission "SELEKT"',
    },
    {
      case: "unknown resource type",
      breakIt: (f) => (f.policies[0].resourceType = "COLUMN"),
      problem: "policies[0].resourceType: Invalid option",
    },
    {
      case: "a misspelt field",
      breakIt: (f) => (f.databases[0].tables[1].tag = { Access: "Public" }),
      problem: "databases[0].tables[1].tag: unknown field",
    },
    {
      case: "a table without columns",
      breakIt: (f) => delete f.databases[0].tables[1].columns,
      problem: "databases[0].tables[1].columns: Invalid input: expected array, received undefined",
    },
    {
      case: "an ontology key without values",
      breakIt: (f) => (f.tags.PII = []),
      problem: "tags.PII: a tag key needs at least one allowed value",
    },
    {
      case: "an ontology key defined twice in different case",
      breakIt: (f) => (f.tags.pii = ["true"]),
      problem: 'tags.pii: tag key defined twice (also as "PII"',
    },
    {
      case: "an unquoted catalog id",
      breakIt: (f) => (f.catalogId = 123456789012),
      problem: "catalogId: the catalog id must be a quoted string",
    },
    {
      case: "a tag key named __proto__ (zod would drop it silently)",
      breakIt: (f) => Object.defineProperty(f.databases[0].tags, "__proto__", { value: "x", enumerable: true, configurable: true, writable: true }),
      problem: "databases[0].tags.__proto__: reserved name",
    },
    { case: "not an object at all", breakIt: (f) => delete f.databases, problem: "databases: Invalid input: expected array" },
  ];

  for (const format of FORMATS) {
    it.each(rows)(`${format}: $case`, ({ breakIt, problem }) => {
      const file = validFile();
      breakIt(file);
      const error = snapshotError(render(file, format), format);
      expect(error.code).toBe("SNAPSHOT_INVALID");
      expect(error.message).toContain(`catalog.${format}: invalid snapshot (1 problem):`);
      expect(error.message).toContain(`  - ${problem}`);
    });
  }

  it("accepts the unbroken file in both formats", () => {
    for (const format of FORMATS) expect(() => parseSnapshot(render(validFile(), format), format, "ok")).not.toThrow();
  });

  it("reports every problem at once", () => {
    const file = validFile();
    file.databases[0].tables[3].columns[1].tags.PII = "maybe";
    file.policies[1].expressionName = "nope";
    file.policies[0].permissions.push("READ");
    const error = snapshotError(JSON.stringify(file), "json");
    expect(error.message).toContain("(3 problems)");
    expect(error.message).toContain("databases[0].tables[3].columns[1].tags.PII");
    expect(error.message).toContain("policies[1].expressionName");
    expect(error.message).toContain("policies[0].permissions[2]");
  });

  it("lists at most 100 problems and counts the rest", () => {
    const file = validFile();
    file.databases[0].tables[0].columns = Array.from({ length: 150 }, (_, i) => ({ name: `c${i}`, tags: { Nope: "x" } }));
    const error = snapshotError(JSON.stringify(file), "json");
    expect(error.message).toContain("(150 problems)");
    expect(error.message).toContain("columns[99].tags.Nope");
    expect(error.message).not.toContain("columns[100].tags.Nope");
    expect(error.message).toContain("... and 50 more");
  });

  it("names the origin and the line of a syntax error, without echoing the source", () => {
    const yaml = snapshotError("tags: {a: [b]\ndatabases: [\n", "yaml");
    expect(yaml.message).toMatch(/^catalog\.yaml: not valid YAML: .*line/);
    expect(yaml.message.split("\n")).toHaveLength(1);
    expect(yaml.cause).toBeInstanceOf(Error);
    expect(snapshotError("{ nope", "json").message).toMatch(/^catalog\.json: not valid JSON: /);
    expect(snapshotError("", "yaml").message).toContain("(top level): Invalid input: expected object");
  });

  it("rejects duplicate map keys in YAML instead of keeping the last one", () => {
    const text = "tags: {PII: [a]}\ndatabases:\n  - name: d\n    tags: {PII: a, PII: a}\n    tables: []\n";
    expect(snapshotError(text, "yaml").message).toContain("not valid YAML");
  });
});

describe("parseSnapshot normalisation", () => {
  const yaml = `
tags:
  Access: [Public, Internal]
  PII: ["true", "false"]
databases:
  - name: Sales
    tags: { ACCESS: INTERNAL }
    tables:
      - name: Orders
        columns:
          - name: Email
            tags: { pii: true }
policies:
  - principal: arn:aws:iam::123456789012:role/Analyst
    resourceType: table
    expression: { access: [public, Public, "*"], PII: "false" }
    permissions: [select, Select, describe]
    permissionsWithGrantOption: [select]
    condition: 'context.sourceIp == "10.0.0.1"'
`;

  it("lower-cases tag keys and values, upper-cases permissions, keeps names as written", () => {
    const expected: CatalogSnapshot = {
      tags: { access: ["public", "internal"], pii: ["true", "false"] },
      databases: [
        {
          name: "Sales",
          tags: { access: "internal" },
          tables: [{ name: "Orders", tags: {}, columns: [{ name: "Email", tags: { pii: "true" } }] }],
        },
      ],
      expressions: {},
      policies: [
        {
          principal: "arn:aws:iam::123456789012:role/Analyst",
          resourceType: "TABLE",
          expression: { access: ["public", "*"], pii: ["false"] },
          permissions: ["SELECT", "DESCRIBE"],
          permissionsWithGrantOption: ["SELECT"],
          condition: 'context.sourceIp == "10.0.0.1"',
        },
      ],
    };
    expect(parseSnapshot(yaml, "yaml", "x.yaml")).toStrictEqual(expected);
  });

  it("lets a name win over an empty inline expression (aws-facts §1.6)", () => {
    const file = validFile();
    file.policies[1].expression = {};
    const policy = parseSnapshot(JSON.stringify(file), "json", "x.json").policies[1];
    expect(policy).toStrictEqual({
      principal: "arn:aws:iam::123456789012:role/bi",
      resourceType: "TABLE",
      expressionName: "public_data",
      permissions: ["SELECT"],
    });
  });

  it("needs only databases: tags, expressions and policies default to empty", () => {
    expect(parseSnapshot("databases: []\n", "yaml", "x")).toStrictEqual({ tags: {}, databases: [], expressions: {}, policies: [] });
  });

  it("accepts hostile names as data", () => {
    const file = validFile();
    file.databases[0].name = `sales"; DROP SCHEMA public CASCADE; --`;
    file.databases[0].tables[0].name = "order's table";
    file.databases[0].tables[0].columns[0].name = "ünïcødé 列 🚀";
    file.databases[0].tables[1].columns[0].name = "a\tb\nc\\d";
    file.policies[0].principal = "arn:aws:iam::123456789012:role/it's \"quoted\"";
    for (const format of FORMATS) {
      const snapshot = parseSnapshot(render(file, format), format, "x");
      expect(snapshot.databases[0]?.name).toBe(`sales"; DROP SCHEMA public CASCADE; --`);
      expect(snapshot.databases[0]?.tables[0]?.columns[0]?.name).toBe("ünïcødé 列 🚀");
      expect(parseSnapshot(serializeSnapshot(snapshot, format), format, "again")).toStrictEqual(snapshot);
    }
  });
});

describe("serializeSnapshot", () => {
  const snapshot = parseSnapshot(JSON.stringify(validFile()), "json", "x.json");

  it.each(FORMATS)("round-trips through parseSnapshot (%s)", (format) => {
    expect(parseSnapshot(serializeSnapshot(snapshot, format), format, "x")).toStrictEqual(snapshot);
  });

  it("is independent of map insertion order and leaves empty tag maps out", () => {
    const reordered: CatalogSnapshot = {
      ...snapshot,
      tags: { pii: snapshot.tags.pii ?? [], access: snapshot.tags.access ?? [] },
      policies: snapshot.policies.map((p) => (p.expression === undefined ? p : { ...p, expression: { pii: ["false"], access: ["public", "internal"] } })),
    };
    expect(serializeSnapshot(reordered, "json")).toBe(serializeSnapshot(snapshot, "json"));
    const json = JSON.parse(serializeSnapshot(snapshot, "json")) as Json;
    expect(Object.keys(json)).toStrictEqual(["catalogId", "tags", "databases", "expressions", "policies"]);
    expect(json.databases[0].tables[1]).toStrictEqual({ name: "refunds", columns: [{ name: "refund_id" }] });
  });

  it("keeps the text of values YAML would otherwise read as booleans or numbers", () => {
    const yaml = serializeSnapshot(snapshot, "yaml");
    expect(yaml).toContain('catalogId: "123456789012"');
    expect(yaml).toContain('pii: "true"');
  });

  it("round-trips any names, in both formats", () => {
    const name = fc.string({ unit: "binary", minLength: 1, maxLength: 12 });
    const names = fc.uniqueArray(name, { minLength: 1, maxLength: 4, selector: (n) => n.toLowerCase() });
    fc.assert(
      fc.property(names, names, name, (databases, columns, principal) => {
        const model: CatalogSnapshot = {
          tags: { pii: ["true"] },
          databases: databases.map((d) => ({ name: d, tags: {}, tables: [{ name: d, tags: {}, columns: columns.map((c) => ({ name: c, tags: { pii: "true" } })) }] })),
          expressions: {},
          policies: [{ principal, resourceType: "TABLE", expression: { pii: ["true"] }, permissions: ["SELECT"] }],
        };
        for (const format of FORMATS) expect(parseSnapshot(serializeSnapshot(model, format), format, "x")).toStrictEqual(model);
      }),
      { numRuns: 50 },
    );
  });
});

describe("snapshotFormatOf", () => {
  it.each([
    ["catalog.json", "json"],
    ["/a/b/catalog.YAML", "yaml"],
    ["c.yml", "yaml"],
  ] as const)("%s is %s", (path, format) => {
    expect(snapshotFormatOf(path)).toBe(format);
  });

  it("refuses an extension it cannot tell", () => {
    expect(() => snapshotFormatOf("catalog.txt")).toThrow(expect.objectContaining({ code: "SNAPSHOT_INVALID" }));
  });
});
