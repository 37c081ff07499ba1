import { api } from "../api";
import type { MessageType } from "../wire";
import { resource } from "./resource";
import { onSessionReset } from "./session";

export type TemplateId = "daily_sync" | "weekly_standup" | "sprint_handoff";
export type Role = "lead" | "participants";

export interface TemplateStep {
  name: string;
  type: MessageType;
  from: Role;
  to: Role;
  /** The message type each participant must answer with before the next step starts. */
  awaits?: MessageType;
  /** How long the answers are awaited (0 when nothing is awaited). */
  timeoutSeconds: number;
}

export interface WorkflowTemplate {
  id: TemplateId;
  name: string;
  description: string;
  steps: TemplateStep[];
  /** In words ("Every day at 09:00 UTC"). */
  defaultSchedule?: string;
}

export type RunStatus = "running" | "completed" | "failed";
export type RunStepStatus = "pending" | "running" | "completed" | "failed";

export interface RunStep {
  name: string;
  status: RunStepStatus;
  agentId: string | null;
  messageId: string | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface WorkflowRun {
  id: string;
  template: TemplateId | string;
  status: RunStatus;
  leadAgentId: string;
  participantIds: string[];
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  /** "manual" or "schedule". */
  trigger?: string;
  steps: RunStep[];
}

export const templates = resource((signal) =>
  api.get<{ data: WorkflowTemplate[] }>("/api/dashboard/workflows/templates", undefined, signal),
);

export const runs = resource((signal) =>
  api.get<{ data: WorkflowRun[] }>("/api/dashboard/workflows/runs", undefined, signal),
);

export const run = resource(async (signal, id: string) => {
  const res = await api.get<{ run: WorkflowRun }>(
    `/api/dashboard/workflows/runs/${encodeURIComponent(id)}`,
    undefined,
    signal,
  );
  return res.run;
});

export interface TriggerInput {
  leadAgentId: string;
  participantIds: string[];
  /** Overrides every step's reply timeout for this run. */
  timeoutSeconds?: number;
}

export async function triggerWorkflow(template: string, input: TriggerInput): Promise<WorkflowRun> {
  const res = await api.post<{ run: WorkflowRun }>(
    `/api/dashboard/workflows/${encodeURIComponent(template)}/trigger`,
    input,
  );
  const list = runs.data.value;
  if (list) runs.set({ data: [res.run, ...list.data.filter((r) => r.id !== res.run.id)] });
  run.set(res.run);
  return res.run;
}

onSessionReset(() => {
  templates.reset();
  runs.reset();
  run.reset();
});
