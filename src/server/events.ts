import { z } from "zod";
import { PARTITION_CHANGE_TYPES } from "./event-reads.js";

/**
 * The change events the webhook reacts to (aws-facts §4.1). config/deploy's EventBridge rule lists
 * exactly these names; a test compares the two.
 */

/** Lake Formation emits only through CloudTrail (aws-facts §4.1). */
export const LAKE_FORMATION_SOURCE = "aws.lakeformation";
export const LAKE_FORMATION_EVENT_SOURCE = "lakeformation.amazonaws.com";
export const GLUE_SOURCE = "aws.glue";
export const GLUE_EVENT_SOURCE = "glue.amazonaws.com";
export const CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail";
/** The China regions' spelling of the same detail-type (aws-facts §4.1). */
const CLOUDTRAIL_DETAIL_TYPES: ReadonlySet<string> = new Set([CLOUDTRAIL_DETAIL_TYPE, "Amazon API Call via CloudTrail"]);

/** Lake Formation operations that change tags, policies, expressions, admins or opt-ins. */
export const LAKE_FORMATION_EVENT_NAMES = [
  "AddLFTagsToResource",
  "RemoveLFTagsFromResource",
  "CreateLFTag",
  "UpdateLFTag",
  "DeleteLFTag",
  "GrantPermissions",
  "RevokePermissions",
  "BatchGrantPermissions",
  "BatchRevokePermissions",
  "CreateLFTagExpression",
  "UpdateLFTagExpression",
  "DeleteLFTagExpression",
  "PutDataLakeSettings",
  "CreateDataCellsFilter",
  "UpdateDataCellsFilter",
  "DeleteDataCellsFilter",
  "CreateLakeFormationOptIn",
  "DeleteLakeFormationOptIn",
] as const;

/** Glue operations (CloudTrail) that add, change or remove databases, tables or their columns. */
export const GLUE_EVENT_NAMES = [
  "CreateDatabase",
  "UpdateDatabase",
  "DeleteDatabase",
  "CreateTable",
  "UpdateTable",
  "DeleteTable",
  "BatchDeleteTable",
] as const;

/** Glue's native events, `source: aws.glue`, delivered best effort (aws-facts §4.1). */
export const GLUE_STATE_CHANGE_DETAIL_TYPES = ["Glue Data Catalog Database State Change", "Glue Data Catalog Table State Change"] as const;

const LF_NAMES: ReadonlySet<string> = new Set(LAKE_FORMATION_EVENT_NAMES);
const GLUE_NAMES: ReadonlySet<string> = new Set(GLUE_EVENT_NAMES);
const GLUE_STATE_CHANGES: ReadonlySet<string> = new Set(GLUE_STATE_CHANGE_DETAIL_TYPES);

const text = z.string().min(1);

/**
 * The EventBridge envelope (aws-facts §4.2). Loose: fields AWS adds later pass through; only what
 * the webhook relies on is required.
 */
export const eventEnvelopeSchema = z.looseObject({
  version: z.string(),
  id: text.max(256),
  "detail-type": text,
  source: text,
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.looseObject({}),
});

export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;

/** CloudTrail record contents: the parameters' casing is unconfirmed, so only these fields are read (aws-facts §4.2). */
export const cloudTrailDetailSchema = z.looseObject({
  eventSource: text,
  eventName: text,
  errorCode: z.string().optional(),
});

export const glueStateChangeDetailSchema = z.looseObject({
  databaseName: z.string().optional(),
  typeOfChange: z.string().optional(),
});

export type EventClass =
  | { readonly relevant: true; readonly name: string }
  | { readonly relevant: false; readonly reason: string };

/**
 * Whether an event can change what Redshift should hold. Throws the zod error (with its path under
 * `detail`) when a CloudTrail event lacks the fields the decision needs.
 */
export function classifyEvent(event: EventEnvelope): EventClass {
  const detailType = event["detail-type"];
  if (event.source !== LAKE_FORMATION_SOURCE && event.source !== GLUE_SOURCE) {
    return { relevant: false, reason: `source ${event.source} is neither ${LAKE_FORMATION_SOURCE} nor ${GLUE_SOURCE}` };
  }
  if (CLOUDTRAIL_DETAIL_TYPES.has(detailType)) {
    const detail = cloudTrailDetailSchema.parse(event.detail);
    // CloudTrail records failed calls too (aws-facts §4.1): nothing changed.
    if (detail.errorCode !== undefined && detail.errorCode !== "") {
      return { relevant: false, reason: `${detail.eventName} failed (${detail.errorCode})` };
    }
    const names = detail.eventSource === LAKE_FORMATION_EVENT_SOURCE ? LF_NAMES : detail.eventSource === GLUE_EVENT_SOURCE ? GLUE_NAMES : null;
    if (names === null || !names.has(detail.eventName)) {
      return { relevant: false, reason: `${detail.eventSource} ${detail.eventName} cannot change grants` };
    }
    return { relevant: true, name: detail.eventName };
  }
  if (event.source === GLUE_SOURCE && GLUE_STATE_CHANGES.has(detailType)) {
    const detail = glueStateChangeDetailSchema.parse(event.detail);
    // Partition-only changes (the config/deploy rule filters them too): no column, tag or grant moves (issue 11).
    if (PARTITION_CHANGE_TYPES.includes(detail.typeOfChange ?? "")) return { relevant: false, reason: `${detail.typeOfChange}: partitions only` };
    return { relevant: true, name: detail.typeOfChange === undefined ? detailType : `${detailType}: ${detail.typeOfChange}` };
  }
  return { relevant: false, reason: `detail-type "${detailType}" cannot change grants` };
}
