export type {
  DeliveryState,
  ErrorFrame,
  MessageFrame,
  MessageType,
  RejectReason,
} from "../../../durable-objects/protocol";
export { MESSAGE_TYPES } from "../../../durable-objects/protocol";
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff";
export {
  AgentClient,
  type AgentClientEvents,
  type AgentClientOptions,
  CLOSE_IDLE,
  CLOSE_PAUSED,
  CLOSE_REPLACED,
  CLOSE_RESTART,
  type ConnectionState,
  type SendOptions,
  type StopReason,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./client";
export type { ConfigHandler } from "./config-sync";
export { AegisClientError, type AegisClientErrorOptions, type ClientErrorCode } from "./errors";
export type { MessageContext, MessageHandler, ReplyOptions } from "./inbox";
export type { SendResult } from "./outbox";
export type { IncomingMessage, LogFn, LogLevel, PayloadInput } from "./wire";
