/** What a run costs on the Data API: calls by kind, bytes each way, batches, the largest result read (issue 9 item 3). */
import type { Submitted } from "./operations.js";
import type { ResultReads } from "./results.js";

export interface Traffic {
  calls: Record<string, number>;
  requestBytes: number;
  responseBytes: number;
  /** Queries the endpoint ran on PostgreSQL (rule checks, shims and the SQL itself). */
  queries: number;
}

export interface DataApiMetrics {
  /** ExecuteStatement + BatchExecuteStatement requests. */
  readonly submitCalls: number;
  readonly describeCalls: number;
  readonly resultCalls: number;
  readonly otherCalls: number;
  readonly byOperation: Readonly<Record<string, number>>;
  /** HTTP request bodies, SQL included. */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly sqlBytes: number;
  readonly statements: number;
  readonly batches: number;
  /** Statements and SQL bytes inside batches (what the batch packer had to fit). */
  readonly batchStatements: number;
  readonly batchSqlBytes: number;
  readonly largestResultBytes: number;
  readonly largestResultRows: number;
  /** Calls (submit, describe, result) of keyset pages: the reads that grow with the catalog by design. */
  readonly pagedReadCalls: number;
  /** The describe calls among them (polls until a page's statement is done). */
  readonly pagedReadDescribeCalls: number;
  /** PostgreSQL queries behind them: what emulating Redshift cost, not a Redshift figure. */
  readonly backendQueries: number;
}

export function metricsOf(traffic: Traffic, submitted: Submitted, reads: ResultReads): DataApiMetrics {
  const calls = (name: string): number => traffic.calls[name] ?? 0;
  const submitCalls = calls("ExecuteStatement") + calls("BatchExecuteStatement");
  const total = Object.values(traffic.calls).reduce((sum, n) => sum + n, 0);
  return {
    submitCalls,
    describeCalls: calls("DescribeStatement"),
    resultCalls: calls("GetStatementResult"),
    otherCalls: total - submitCalls - calls("DescribeStatement") - calls("GetStatementResult"),
    byOperation: { ...traffic.calls },
    bytesSent: traffic.requestBytes,
    bytesReceived: traffic.responseBytes,
    sqlBytes: submitted.sqlBytes,
    statements: submitted.statements,
    batches: submitted.batches,
    batchStatements: submitted.batchStatements,
    batchSqlBytes: submitted.batchSqlBytes,
    largestResultBytes: reads.largestResultBytes,
    largestResultRows: reads.largestResultRows,
    pagedReadCalls: submitted.pagedReadCalls,
    pagedReadDescribeCalls: submitted.pagedReadDescribeCalls,
    backendQueries: traffic.queries,
  };
}
