/**
 * Coordination workflow templates, as data (S7-01). A template is a list of steps; each step is a
 * message the lead sends to every participant, optionally awaiting a reply of a given type (threaded
 * by correlationId) within a timeout. TenantHub runs them.
 */
import type { MessageType } from "./protocol";

export const WORKFLOW_TEMPLATES = ["daily_sync", "weekly_standup", "sprint_handoff"] as const;
export type WorkflowTemplateId = (typeof WORKFLOW_TEMPLATES)[number];

export interface WorkflowStepTemplate {
  name: string;
  type: MessageType;
  from: "lead";
  to: "participants";
  /** The message type each participant must answer with (correlationId = the request's id). */
  awaits?: MessageType;
  timeoutSeconds: number;
  /** The payload; `{{summary}}` in string values is replaced by the collected answers of earlier steps. */
  payload: Record<string, unknown>;
}

export interface WorkflowTemplate {
  id: WorkflowTemplateId;
  name: string;
  description: string;
  steps: WorkflowStepTemplate[];
  defaultSchedule: string;
}

export const TEMPLATES: Record<WorkflowTemplateId, WorkflowTemplate> = {
  daily_sync: {
    id: "daily_sync",
    name: "Daily sync",
    description:
      "The lead asks every participant what they finished, what is next and what blocks them, then shares the summary.",
    defaultSchedule: "Every day at 09:00 UTC",
    steps: [
      {
        name: "Ask for updates",
        type: "data_request",
        from: "lead",
        to: "participants",
        awaits: "data_response",
        timeoutSeconds: 600,
        payload: {
          query: "What did you finish since the last sync, what is next, and what is blocking you?",
          format: "text",
        },
      },
      {
        name: "Share the summary",
        type: "notification",
        from: "lead",
        to: "participants",
        timeoutSeconds: 0,
        payload: { title: "Daily sync summary", body: "{{summary}}", level: "info" },
      },
    ],
  },
  weekly_standup: {
    id: "weekly_standup",
    name: "Weekly standup",
    description:
      "Each participant reports its status for the week; the lead then hands out the focus for next week.",
    defaultSchedule: "Mondays at 08:00 UTC",
    steps: [
      {
        name: "Collect weekly status",
        type: "data_request",
        from: "lead",
        to: "participants",
        awaits: "data_response",
        timeoutSeconds: 1800,
        payload: { query: "Summarise your week: outcomes, metrics, risks.", format: "markdown" },
      },
      {
        name: "Set next week's focus",
        type: "task_handoff",
        from: "lead",
        to: "participants",
        awaits: "status_update",
        timeoutSeconds: 1800,
        payload: {
          title: "Focus for next week",
          description: "Team summary:\n{{summary}}",
          priority: "normal",
        },
      },
    ],
  },
  sprint_handoff: {
    id: "sprint_handoff",
    name: "Sprint handoff",
    description: "The lead hands the sprint's work to each participant, who confirms with a status update.",
    defaultSchedule: "Every other Friday at 16:00 UTC",
    steps: [
      {
        name: "Hand off the sprint",
        type: "task_handoff",
        from: "lead",
        to: "participants",
        awaits: "status_update",
        timeoutSeconds: 900,
        payload: {
          title: "Sprint handoff",
          description: "Pick up your share of the sprint backlog and confirm.",
          priority: "high",
        },
      },
      {
        name: "Announce the sprint",
        type: "notification",
        from: "lead",
        to: "participants",
        timeoutSeconds: 0,
        payload: { title: "Sprint started", body: "Confirmations:\n{{summary}}", level: "info" },
      },
    ],
  },
};

export type RunStatus = "running" | "completed" | "failed";
export type RunStepStatus = "pending" | "running" | "completed" | "failed";

export interface WorkflowRunStep {
  name: string;
  /** Index into the template's steps: one run step per template step and participant. */
  templateStep: number;
  status: RunStepStatus;
  agentId: string | null;
  messageId: string | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface WorkflowRun {
  id: string;
  template: WorkflowTemplateId;
  status: RunStatus;
  leadAgentId: string;
  participantIds: string[];
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  trigger: string;
  steps: WorkflowRunStep[];
}

/** Replaces `{{summary}}` in the payload's string values. */
export function renderPayload(payload: Record<string, unknown>, summary: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload))
    out[k] = typeof v === "string" ? v.replaceAll("{{summary}}", summary) : v;
  return out;
}
