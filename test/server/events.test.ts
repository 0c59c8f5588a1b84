import { describe, expect, it } from "vitest";
import {
  classifyEvent,
  eventEnvelopeSchema,
  GLUE_EVENT_NAMES,
  GLUE_STATE_CHANGE_DETAIL_TYPES,
  LAKE_FORMATION_EVENT_NAMES,
} from "../../src/server/events.js";
import { cloudTrailEvent } from "./harness.js";

const classify = (event: unknown) => classifyEvent(eventEnvelopeSchema.parse(event));

describe("classifyEvent", () => {
  it.each([...LAKE_FORMATION_EVENT_NAMES])("treats Lake Formation %s as relevant", (name) => {
    expect(classify(cloudTrailEvent(name))).toEqual({ relevant: true, name });
  });

  it.each([...GLUE_EVENT_NAMES])("treats Glue %s (CloudTrail) as relevant", (name) => {
    expect(classify(cloudTrailEvent(name, { source: "aws.glue" }))).toEqual({ relevant: true, name });
  });

  it.each([...GLUE_STATE_CHANGE_DETAIL_TYPES])("treats the native Glue event %s as relevant", (detailType) => {
    const event = { ...cloudTrailEvent("x", { source: "aws.glue" }), "detail-type": detailType, detail: { databaseName: "sales", typeOfChange: "CreateTable", changedTables: ["orders"] } };
    expect(classify(event)).toEqual({ relevant: true, name: `${detailType}: CreateTable` });
  });

  it.each([
    ["a failed call", cloudTrailEvent("GrantPermissions", { errorCode: "AccessDeniedException" }), "GrantPermissions failed (AccessDeniedException)"],
    ["a read-only call", cloudTrailEvent("GetDataLakeSettings"), "lakeformation.amazonaws.com GetDataLakeSettings cannot change grants"],
    ["a Lake Formation name from Glue", cloudTrailEvent("GrantPermissions", { source: "aws.glue" }), "glue.amazonaws.com GrantPermissions cannot change grants"],
    ["a Glue partition change", cloudTrailEvent("CreatePartition", { source: "aws.glue" }), "glue.amazonaws.com CreatePartition cannot change grants"],
    ["another service", cloudTrailEvent("CreateBucket", { source: "aws.s3", eventSource: "s3.amazonaws.com" }), "source aws.s3 is neither aws.lakeformation nor aws.glue"],
    ["another Glue detail-type", { ...cloudTrailEvent("x", { source: "aws.glue" }), "detail-type": "Glue Job State Change" }, 'detail-type "Glue Job State Change" cannot change grants'],
  ])("ignores %s", (_, event, reason) => {
    expect(classify(event)).toEqual({ relevant: false, reason });
  });

  it("names the missing CloudTrail field", () => {
    const event = cloudTrailEvent("GrantPermissions");
    const { eventName: _, ...detail } = event.detail;
    expect(() => classify({ ...event, detail })).toThrow(/eventName/);
  });

  it("exports each event name once", () => {
    const names = [...LAKE_FORMATION_EVENT_NAMES, ...GLUE_EVENT_NAMES];
    expect(new Set(names).size).toBe(names.length);
    expect(LAKE_FORMATION_EVENT_NAMES).toHaveLength(18);
    expect(GLUE_EVENT_NAMES).toHaveLength(7);
  });
});
