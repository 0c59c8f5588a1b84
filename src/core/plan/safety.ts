import type { SafetyConfig } from "../../config/schema.js";
import type { SafetyVerdict } from "./types.js";

export interface SafetyInput {
  readonly policyCount: number;
  readonly safety: SafetyConfig;
  readonly force: boolean;
}

/**
 * The brakes (DESIGN §4.2): when the source looks broken (no policies while grants are recorded) or a
 * plan revokes more than configured, apply nothing unless forced.
 */
export function checkSafety(input: SafetyInput, revokes: number, recordedSlots: number): SafetyVerdict {
  const reasons: string[] = [];
  if (input.policyCount === 0 && recordedSlots > 0) {
    reasons.push(`the source has no policies while ${recordedSlots} grants are recorded: the source looks broken`);
  }
  if (revokes > input.safety.maxRevokes) {
    reasons.push(`the plan revokes ${revokes} grants, more than safety.maxRevokes (${input.safety.maxRevokes})`);
  }
  if (recordedSlots > 0 && revokes / recordedSlots > input.safety.maxRevokeRatio) {
    reasons.push(`the plan revokes ${revokes} of ${recordedSlots} recorded grants, more than safety.maxRevokeRatio (${input.safety.maxRevokeRatio})`);
  }
  return { refused: reasons.length > 0 && !input.force, forced: reasons.length > 0 && input.force, reasons };
}
