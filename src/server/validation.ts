import { z } from "zod";

/** `body.detail.eventName: Invalid input: expected string, received undefined`: the field first, never the value. */
export function describeZodError(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = z.core.toDotPath(issue.path);
      const field = path === "" ? prefix : path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`;
      return `${field}: ${issue.message}`;
    })
    .join("; ");
}
