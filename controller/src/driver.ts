// What the reconciler needs from a place that runs agents: the Kubernetes driver (server-side apply)
// and the local driver (child processes) both implement it.
import type { AGENT_RUNTIME_STATUSES, DesiredState } from "../../worker/features/clusters/protocol";
import type { EgressEvent } from "./egress/proxy";

export interface AgentRuntimeStatus {
  agentId: string;
  status: (typeof AGENT_RUNTIME_STATUSES)[number];
  restarts: number;
  lastError: string | null;
}

export interface ApplyError {
  /** `Kind namespace/name` or `agent <id>`. */
  resource: string;
  message: string;
}

export interface DriverContext {
  /** The runtime credential of an agent at the desired version, fetched (and rotated) from the platform. */
  credentialFor(agentId: string, version: number): Promise<{ credential: string; version: number }>;
  /** Blocked (or, in log-only mode, would-be blocked) egress, to report to the platform. */
  onEgress(event: EgressEvent): void;
}

export interface Driver {
  readonly name: string;
  /**
   * Makes what runs equal to `state`: creates and updates what is desired and prunes what is not (by
   * the owner labels / records the driver keeps). Idempotent; objects that fail are reported and the
   * others still applied.
   */
  apply(state: DesiredState, ctx: DriverContext): Promise<{ errors: ApplyError[] }>;
  status(): Promise<AgentRuntimeStatus[]>;
  close(): Promise<void>;
}
