/**
 * The shapes the engine's REST API and run events use (see `docs/engine.md` and
 * `GET /api/v1/openapi.json`). Field names follow the JSON on the wire (camelCase, except the stored
 * chat messages, which keep the model's snake_case).
 */

/** A JSON value as it arrives from the server. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** A role: what a user may do. */
export type Role = 'admin' | 'operator' | 'viewer';

/** A team member. */
export interface User {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
}

/** `POST /auth/login` and `POST /auth/refresh`. */
export interface Session {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  user: User;
}

/** The API's error body. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

/** A conversation (history entry). */
export interface Conversation {
  id: string;
  userId: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
}

/** Where a run is. */
export type RunStatus = 'running' | 'waiting_approval' | 'completed' | 'failed' | 'stopped' | 'interrupted';

/** One run: the answer to one user message. */
export interface Run {
  id: string;
  conversationId: string;
  userId: string;
  status: RunStatus;
  provider: string;
  model: string;
  startedAt: number;
  finishedAt: number | null;
  error: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
  ttftMs: number | null;
  steps: number;
}

/** A tool call the model asked for (in an assistant message). */
export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: Json;
}

/** The stored form of a chat message (`data` of a message). */
export type ChatMessageData =
  | { role: 'user'; content: string; context?: string }
  | { role: 'assistant'; content: string; tool_calls?: ToolCallRequest[]; thinking?: string; stopped?: boolean }
  | { role: 'tool'; call_id: string; name: string; content: string; is_error?: boolean };

/** A stored message. */
export interface Message {
  id: string;
  conversationId: string;
  runId: string | null;
  seq: number;
  role: 'user' | 'assistant' | 'tool';
  data: ChatMessageData;
  createdAt: number;
}

/** Where a tool call is. */
export type ToolCallStatus = 'pending_approval' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';

/** A stored tool call. `result` is `{summary, structured}` or `{error}`. */
export interface ToolCall {
  id: string;
  runId: string;
  conversationId: string;
  callId: string;
  tool: string;
  context: string | null;
  arguments: Json;
  status: ToolCallStatus;
  result: Json | null;
  isError: boolean;
  createdAt: number;
  finishedAt: number | null;
  durationMs: number | null;
}

/** Where an approval is. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'cancelled';

/** What the approver sees: a dry run with a diff, a failed dry run, or a description. */
export interface Preview {
  kind: 'dry-run' | 'dry-run-failed' | 'description' | string;
  summary?: string;
  diff?: string;
  error?: string;
  destructive?: boolean;
}

/** A stored approval. */
export interface Approval {
  id: string;
  toolCallId: string;
  runId: string;
  conversationId: string;
  tool: string;
  context: string | null;
  arguments: Json;
  preview: Preview;
  previewHash: string;
  status: ApprovalStatus;
  decidedBy: string | null;
  reason: string | null;
  createdAt: number;
  decidedAt: number | null;
}

/** `GET /conversations/{id}`: everything needed to replay a conversation. */
export interface ConversationReplay {
  conversation: Conversation;
  messages: Message[];
  runs: Run[];
  toolCalls: ToolCall[];
  approvals: Approval[];
}

/** `POST /conversations` and `POST /conversations/{id}/messages` (202). */
export interface RunStartedResponse {
  conversation: Conversation;
  run: Run;
  events: string;
}

/** An audit log entry. */
export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  context: string | null;
  tool: string | null;
  arguments: Json | null;
  decision: string | null;
  outcome: string | null;
  runId: string | null;
  prevHash: string;
  hash: string;
}

/** `GET /audit/verify`. */
export interface AuditVerification {
  valid: boolean;
  entries: number;
  firstInvalidSeq: number | null;
  reason: string | null;
  headHash: string | null;
}

/** A Jenkins server. */
export interface Integration {
  id: string;
  kind: string;
  name: string;
  url: string;
  credentialsSecret: string;
  createdAt: number;
  updatedAt: number;
}

/** One day of token usage. */
export interface UsageBucket {
  day: string;
  runs: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
}

/** `GET /health`. */
export interface Health {
  status: string;
  version: string;
  llm: { provider: string; model: string; offline: boolean };
}
