// The workerd-safe entry. Node-only helpers live in "./node" (node-host.ts) and "./testing".

// The zod the SDK validates with, so skills define their input and output schemas with the same one.
export { z } from "zod";
export {
  AGENT_STATES,
  type AgentState,
  type AgentStatus,
  createSkillContext,
  DELIVERY_STATES,
  type DeliveryStatus,
  type JsonObject,
  type JsonValue,
  jsonObjectSchema,
  MAX_MESSAGE_PAYLOAD_BYTES,
  type ModelMessage,
  type ModelRequest,
  type ModelResponse,
  type ModelUsage,
  type OutgoingMessage,
  type PermissionUseEvent,
  type SendResult,
  type SkillContext,
  type SkillHost,
  type SkillKv,
} from "./context";
export { defineSkill, type Skill, type SkillDefinition } from "./define";
export {
  InvalidManifestError,
  type IssueDetails,
  issueDetails,
  PermissionDeniedError,
  type PermissionKind,
  SkillError,
  SkillInputError,
  SkillOutputError,
} from "./errors";
export {
  describePermissions,
  domainProblem,
  type ManifestParseResult,
  MESSAGE_TYPES,
  type MessageType,
  manifestJsonSchema,
  messageTypeSchema,
  noPermissions,
  parseManifest,
  pathPatternProblem,
  permissionsSchema,
  RESERVED_ENV_PREFIX,
  SKILL_CATEGORIES,
  type SkillManifest,
  type SkillPermissions,
  skillManifestSchema,
} from "./manifest";
export { createMemoryKv } from "./memory-kv";
export { createMessagesApiModel, type MessagesApiOptions } from "./messages-api";
export {
  domainAllowed,
  envAllowed,
  isIpLiteral,
  listingAllowed,
  normalizeWorkspacePath,
  normalizeWorkspacePrefix,
  pathAllowed,
} from "./policy";
