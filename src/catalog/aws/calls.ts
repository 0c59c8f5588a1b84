import { SyncError } from "../../errors.js";

/**
 * One AWS call. The SDK client already retried throttling and transient faults (adaptive retry,
 * `maxAttempts` from the config); what still fails is final, and a source that cannot read the
 * whole catalog must not return a partial one (DESIGN §1, CatalogSource contract).
 */
export async function callAws<T>(operation: string, resource: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    throw new SyncError("SOURCE_INCOMPLETE", `${operation} ${resource} failed: ${errorText(cause)}`, { cause });
  }
}

/**
 * Every page of a NextToken-paged operation. Stops only when NextToken is absent: Lake Formation
 * returns empty pages that still carry a token (aws-facts trap 1).
 */
export async function collectPages<P extends { NextToken?: string | undefined }>(
  operation: string,
  resource: string,
  fetchPage: (nextToken: string | undefined) => Promise<P>,
): Promise<P[]> {
  const pages: P[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callAws(operation, resource, () => fetchPage(nextToken));
    pages.push(page);
    // A token handed back unchanged would page forever; the read cannot complete, so say so.
    if (page.NextToken !== undefined && page.NextToken === nextToken) {
      throw new SyncError("SOURCE_INCOMPLETE", `${operation} ${resource} returned the same NextToken twice; paging cannot finish`);
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  return pages;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
