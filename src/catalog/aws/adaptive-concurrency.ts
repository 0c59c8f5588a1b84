import type { FinalizeRequestMiddleware, MiddlewareStack } from "@smithy/types";
import type { ConcurrencyLimit } from "./limit.js";

/**
 * AIMD concurrency for the catalog reads (issue 11): Lake Formation's rate limits are undocumented
 * (aws-facts §2.3), so the read finds the rate the account allows. A throttled attempt halves the
 * calls in flight (at least 1), at most once per `holdMs` so that one burst of throttled answers
 * counts once; `current` calls that succeed in a row, with no throttle for `holdMs`, add one call,
 * up to `max` (the configured `source.concurrency`). The SDK's adaptive retry re-sends the
 * throttled attempt; this only keeps the read from hammering the quota while it does.
 */
export class AdaptiveConcurrency implements ConcurrencyLimit {
  current: number;
  /** Throttled attempts seen, and how often the limit was halved (for logs and the bench). */
  throttles = 0;
  decreases = 0;
  private successes = 0;
  private lastDecrease = Number.NEGATIVE_INFINITY;

  constructor(
    readonly max: number,
    private readonly holdMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = max;
  }

  onThrottle(): void {
    this.throttles++;
    this.successes = 0;
    const t = this.now();
    if (t - this.lastDecrease < this.holdMs) return;
    this.lastDecrease = t;
    this.decreases++;
    this.current = Math.max(1, Math.floor(this.current / 2));
  }

  onSuccess(): void {
    if (this.current >= this.max || this.now() - this.lastDecrease < this.holdMs) return;
    if (++this.successes >= this.current) {
      this.current++;
      this.successes = 0;
    }
  }
}

/** Error names AWS uses for throttling across protocols (restJson1, awsJson1_1, awsQuery). */
const THROTTLING = new Set(["ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"]);

export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return THROTTLING.has(error.name) || status === 429;
}

/**
 * Reports every attempt of `client` to `limit`: inside the SDK's retry loop (finalizeRequest, low
 * priority: after the retry middleware), so a throttled attempt the SDK then retries still counts.
 */
export function observeThrottling<I extends object, O extends object>(client: { readonly middlewareStack: MiddlewareStack<I, O> }, limit: AdaptiveConcurrency): void {
  const middleware: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    try {
      const result = await next(args);
      limit.onSuccess();
      return result;
    } catch (error) {
      if (isThrottling(error)) limit.onThrottle();
      throw error;
    }
  };
  client.middlewareStack.add(middleware, { step: "finalizeRequest", priority: "low", name: "lfsyncAdaptiveConcurrency", override: true });
}
