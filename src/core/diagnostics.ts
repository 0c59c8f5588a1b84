/**
 * Warnings as values (Terraform's tfdiags): the pure core never throws for a catalog situation it
 * can report; it returns diagnostics next to its result.
 */
export interface Diagnostic {
  readonly severity: "warning" | "error";
  readonly summary: string;
}

export function warning(summary: string): Diagnostic {
  return { severity: "warning", summary };
}

export function error(summary: string): Diagnostic {
  return { severity: "error", summary };
}

export function formatDiagnostic(d: Diagnostic): string {
  return d.severity === "error" ? `error: ${d.summary}` : d.summary;
}
