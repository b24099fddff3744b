// Reading status conditions.

import type { Condition } from "../types";

/** condition returns the condition of the given type, if any. */
export function condition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

/** State is a summary of an object's Ready condition for a label. */
export interface State {
  text: string;
  status: "success" | "danger" | "warning" | "info" | "custom";
  message?: string;
}

/** readyState summarises a Ready condition: Ready, its reason, or Checking while it is unknown. */
export function readyState(conds: Condition[] | undefined): State {
  const c = condition(conds, "Ready");
  if (!c || c.status === "Unknown") return { text: "Checking", status: "info", message: c?.message };
  if (c.status === "True") return { text: "Ready", status: "success", message: c.message };
  return { text: c.reason || "Not ready", status: "danger", message: c.message };
}

/** phaseStatus maps a migration or step phase to a label colour. */
export function phaseStatus(phase: string | undefined): State["status"] {
  switch (phase) {
    case "Succeeded":
      return "success";
    case "Failed":
      return "danger";
    case "Running":
    case "Retrying":
      return "info";
    case "Canceling":
    case "Canceled":
      return "warning";
    default:
      return "custom";
  }
}
