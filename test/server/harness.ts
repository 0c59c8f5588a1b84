/** The envelope as EventBridge delivers it (aws-facts §4.2). */
export function cloudTrailEvent(eventName: string, extra: { source?: string; eventSource?: string; errorCode?: string; id?: string } = {}) {
  const source = extra.source ?? "aws.lakeformation";
  return {
    version: "0",
    id: extra.id ?? "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
    "detail-type": "AWS API Call via CloudTrail",
    source,
    account: "123456789012",
    time: "2025-01-01T00:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail: {
      eventVersion: "1.08",
      eventSource: extra.eventSource ?? (source === "aws.glue" ? "glue.amazonaws.com" : "lakeformation.amazonaws.com"),
      eventName,
      awsRegion: "eu-west-1",
      requestParameters: { resource: { table: { databaseName: "sales", name: "orders" } } },
      ...(extra.errorCode === undefined ? {} : { errorCode: extra.errorCode, errorMessage: "denied" }),
    },
  };
}

