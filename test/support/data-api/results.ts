/**
 * Result sets as GetStatementResult serves them: sized as JSON Field records, limited per row and
 * per result, paged by rows (postgres mode) or by bytes (redshift mode). Limits: "64 KB per row"
 * and the result size cap (100 MB in the 2023 guide, 500 MB on the current troubleshooting page),
 * https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-troubleshooting.html (aws-facts §5.3).
 * The service's page size is not documented (§5.1): pageBytes is a knob, not a fact.
 */
import type { ResultSet } from "./backends.js";
import { encodeField, typeName, type Field } from "./fields.js";
import { offsetToken } from "./protocol.js";
import type { SubStatement } from "./statements.js";

export interface ResultLimits {
  /** Rows per page; null: page by bytes only. */
  readonly pageRows: number | null;
  /** Bytes of records per page (at least one row); null: by rows only. */
  readonly pageBytes: number | null;
  readonly maxRowBytes: number | null;
  readonly maxResultBytes: number | null;
  /** describe_field_name_in_uppercase: column names upper-cased in ColumnMetadata. */
  readonly uppercaseNames: boolean;
}

export const POSTGRES_LIMITS: ResultLimits = { pageRows: 100, pageBytes: null, maxRowBytes: null, maxResultBytes: null, uppercaseNames: false };

export interface ResultReads {
  /** GetStatementResult pages served. */
  pages: number;
  recordBytes: number;
  /** The largest result (bytes of records) of which a page was read, and its rows. */
  largestResultBytes: number;
  largestResultRows: number;
}

export class ResultMeter {
  readonly reads: ResultReads = { pages: 0, recordBytes: 0, largestResultBytes: 0, largestResultRows: 0 };

  constructor(readonly limits: ResultLimits) {}

  /** Sizes a finished sub-statement's result; the error text when it breaks a limit. */
  check(sub: SubStatement): string | null {
    const result = sub.outcome?.result;
    if (result === undefined || result === null) return null;
    let total = 0;
    for (const row of result.rows) {
      const bytes = rowBytes(row, result);
      if (this.limits.maxRowBytes !== null && bytes > this.limits.maxRowBytes) {
        return `ERROR: a result row of ${bytes} bytes exceeds the Data API limit of ${this.limits.maxRowBytes} bytes per row`;
      }
      total += bytes;
    }
    sub.resultBytes = total;
    if (this.limits.maxResultBytes !== null && total > this.limits.maxResultBytes) {
      return `ERROR: the result of ${total} bytes exceeds the Data API limit of ${this.limits.maxResultBytes} bytes`;
    }
    return null;
  }

  sizeOf(sub: SubStatement): number {
    return sub.resultBytes;
  }

  page(sub: SubStatement, offset: number): Record<string, unknown> {
    const result = sub.outcome!.result!;
    const records: Field[][] = [];
    let bytes = 0;
    let end = offset;
    while (end < result.rows.length) {
      if (this.limits.pageRows !== null && records.length >= this.limits.pageRows) break;
      const record = encodeRow(result.rows[end]!, result);
      const size = Buffer.byteLength(JSON.stringify(record));
      if (this.limits.pageBytes !== null && records.length > 0 && bytes + size > this.limits.pageBytes) break;
      records.push(record);
      bytes += size;
      end++;
    }
    this.count(sub, result, bytes);
    const upper = this.limits.uppercaseNames;
    return {
      Records: records,
      ColumnMetadata: result.columns.map((c) => {
        const name = upper ? c.name.toUpperCase() : c.name;
        return { name, label: name, typeName: typeName(c.typeId) };
      }),
      TotalNumRows: result.rows.length,
      ...(end < result.rows.length ? { NextToken: offsetToken(end) } : {}),
    };
  }

  private count(sub: SubStatement, result: ResultSet, bytes: number): void {
    this.reads.pages++;
    this.reads.recordBytes += bytes;
    if (sub.resultBytes > this.reads.largestResultBytes) {
      this.reads.largestResultBytes = sub.resultBytes;
      this.reads.largestResultRows = result.rows.length;
    }
  }

  reset(): void {
    Object.assign(this.reads, { pages: 0, recordBytes: 0, largestResultBytes: 0, largestResultRows: 0 });
  }
}

function encodeRow(row: readonly unknown[], result: ResultSet): Field[] {
  return row.map((value, i) => encodeField(value, result.columns[i]!.typeId));
}

function rowBytes(row: readonly unknown[], result: ResultSet): number {
  return Buffer.byteLength(JSON.stringify(encodeRow(row, result)));
}
