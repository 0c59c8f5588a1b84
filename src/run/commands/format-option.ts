import { SyncError } from "../../errors.js";

/** A `--format` value checked against the formats a command knows; the message names the option. */
export function formatOption<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new SyncError("CONFIG_INVALID", `--format must be one of ${allowed.join(", ")}`);
  return value as T;
}
