import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { targetKey } from "../../src/run/wiring.js";

/** Issue 13 item 9: the lease key comes from pg's own connection-string parser, as the executor connects. */
const keyOf = (url: string, stateSchema = "lfsync") =>
  targetKey(configSchema.parse({ source: { kind: "file", path: "s.json" }, target: { kind: "postgres", url }, stateSchema }));

describe("targetKey for postgres", () => {
  it.each([
    ["postgres://sync:pw@DB.example.com:5433/warehouse", "postgres://db.example.com:5433/warehouse#lfsync"],
    ["postgresql://sync@db/warehouse?sslmode=require", "postgres://db:5432/warehouse#lfsync"],
    ["postgres://sync@/warehouse?host=/var/run/postgresql", "postgres:///var/run/postgresql:5432/warehouse#lfsync"],
    ["postgres:///warehouse?host=/tmp/pg&port=6543", "postgres:///tmp/pg:6543/warehouse#lfsync"],
    ["postgresql://%2Fvar%2Frun%2Fpostgresql/warehouse", "postgres:///var/run/postgresql:5432/warehouse#lfsync"],
    ["socket:/tmp/pg?db=warehouse", "postgres:///tmp/pg:5432/warehouse#lfsync"],
  ])("%s -> %s", (url, key) => {
    expect(keyOf(url)).toBe(key);
  });

  it("tells two sockets apart, and two state schemas on one database", () => {
    expect(keyOf("postgres:///w?host=/a")).not.toBe(keyOf("postgres:///w?host=/b"));
    expect(keyOf("postgres://h/w", "one")).not.toBe(keyOf("postgres://h/w", "two"));
  });

  it("holds no credentials", () => {
    expect(keyOf("postgres://alice:s3cret@h/w?password=other")).not.toMatch(/s3cret|other|alice/);
  });
});
