import { csvReport } from "./catalog/csv-report";
import { githubIssues } from "./catalog/github-issues";
import { slackNotify } from "./catalog/slack-notify";
import { webResearch } from "./catalog/web-research";
import { agentMessaging } from "./core/agent-messaging";
import { httpFetch } from "./core/http-fetch";
import { humanEscalation } from "./core/human-escalation";
import { jsonTransform } from "./core/json-transform";
import { reminders } from "./core/reminders";
import { scratchpadMemory } from "./core/scratchpad-memory";
import { statusReporting } from "./core/status-reporting";
import { summarize } from "./core/summarize";
import { taskTracking } from "./core/task-tracking";
import { workspaceFiles } from "./core/workspace-files";
import type { Skill } from "./sdk";

/** Installed on every agent and not removable (`skill_not_removable`). */
export const CORE_SKILLS: readonly Skill[] = [
  agentMessaging,
  statusReporting,
  scratchpadMemory,
  workspaceFiles,
  httpFetch,
  jsonTransform,
  summarize,
  taskTracking,
  reminders,
  humanEscalation,
];

/** Public skills any tenant can install from the catalogue. */
export const CATALOG_SKILLS: readonly Skill[] = [githubIssues, slackNotify, csvReport, webResearch];

export const ALL_SKILLS: readonly Skill[] = [...CORE_SKILLS, ...CATALOG_SKILLS];

export { csvReport, parseCsv } from "./catalog/csv-report";
export { githubIssues } from "./catalog/github-issues";
export { slackNotify } from "./catalog/slack-notify";
export { webResearch } from "./catalog/web-research";
export { agentMessaging } from "./core/agent-messaging";
export { createHttpFetchSkill, type HttpFetchVariant, httpFetch } from "./core/http-fetch";
export { HUMAN_ESCALATION_TARGET, humanEscalation } from "./core/human-escalation";
export { getPath, jsonTransform, parsePath, transformJson } from "./core/json-transform";
export { reminders } from "./core/reminders";
export { scratchpadMemory } from "./core/scratchpad-memory";
export { statusReporting } from "./core/status-reporting";
export { chunkText, summarize, summarizeText } from "./core/summarize";
export { type Task, taskTracking } from "./core/task-tracking";
export { workspaceFiles } from "./core/workspace-files";
