import { expect } from "vitest";
import { SyncError } from "../../src/errors.js";

/** The error a promise rejects with; fails the test when it resolves instead. */
export async function failureOf(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure");
}

/** The SyncError a promise (or a call, sync or async) fails with; fails the test otherwise. */
export async function syncErrorOf(promiseOrCall: Promise<unknown> | (() => unknown)): Promise<SyncError> {
  try {
    await (typeof promiseOrCall === "function" ? promiseOrCall() : promiseOrCall);
  } catch (error) {
    expect(error).toBeInstanceOf(SyncError);
    return error as SyncError;
  }
  throw new Error("expected a SyncError, nothing was thrown");
}
