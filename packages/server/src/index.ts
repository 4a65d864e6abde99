// The gateway's public entry: what apps and the client package may import.

export type { Config } from './config.ts';
export { loadConfig } from './config.ts';
export type { ChatMessage, ResponseFormat, Tool, ToolCall } from './generation/chat-schema.ts';
export type {
  AssembledToolCall,
  EndUsage,
  GenerateEvent,
  ModelRef,
  Savings,
  SelectModelEvent,
  ToolCallDelta,
  Usage,
} from './generation/events.ts';
export type { GenerateInput, SelectModelInput } from './generation/input.ts';
export type { Gateway } from './http/gateway.ts';
export { createGateway } from './http/gateway.ts';
export type {
  BudgetStatus,
  ModelUsage,
  UsageGroup,
  UsageQueryInput,
  UsageReport,
  UsageTotals,
} from './ledger/usage-query.ts';
export { createLogger } from './logger.ts';
export type { UpstreamDetails } from './providers/errors.ts';
export type { AppRouter } from './router/index.ts';
