/**
 * The view of one run, built from its events as they stream ([`applyEvent`]) or from the stored
 * conversation ([`replayConversation`] in `replay.ts`): answer text, thinking, tool calls with their
 * approvals, usage, and how it ended. Both paths produce the same shape, so a reopened conversation looks
 * exactly as it did live.
 */
import type { ApprovalStatus, Json, Preview, RunStatus, ToolCallStatus } from '../api/types';

/** MCP hints of a tool. */
export interface Hints {
  readOnly?: boolean;
  destructive?: boolean;
  idempotent?: boolean;
  openWorld?: boolean;
}

/** The approval of a call. */
export interface ApprovalView {
  approvalId: string | null;
  toolCallId: string;
  tool: string;
  context: string | null;
  arguments: Json;
  preview: Preview | null;
  previewHash: string;
  hints: Hints | null;
  status: ApprovalStatus;
  decidedBy: string | null;
  reason: string | null;
}

/** Answer text (Markdown). */
export interface TextItem {
  kind: 'text';
  key: string;
  text: string;
  done: boolean;
}

/** Reasoning text. */
export interface ThinkingItem {
  kind: 'thinking';
  key: string;
  text: string;
  done: boolean;
}

/** One tool call: requested by the model, maybe gated, run or refused. */
export interface CallItem {
  kind: 'call';
  key: string;
  toolCallId: string | null;
  callId: string;
  tool: string;
  title: string | null;
  context: string | null;
  arguments: Json;
  status: ToolCallStatus | 'requested';
  summary: string | null;
  structured: Json;
  isError: boolean;
  durationMs: number | null;
  progress: { progress: number; total: number | null; message: string | null } | null;
  approval: ApprovalView | null;
}

/** Something shown in a run, in order. */
export type RunItem = TextItem | ThinkingItem | CallItem;

/** Token usage of a run. */
export interface UsageView {
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
  ttftMs: number | null;
  steps: number;
}

/** One run as shown. */
export interface RunView {
  runId: string;
  status: RunStatus;
  provider: string | null;
  model: string | null;
  offline: boolean;
  context: string | null;
  items: RunItem[];
  usage: UsageView;
  error: string | null;
  /** The last event applied (for `Last-Event-ID`). */
  lastSeq: number;
}

/** An empty view of a run that just started. */
export function emptyRun(runId: string, status: RunStatus = 'running'): RunView {
  return {
    runId,
    status,
    provider: null,
    model: null,
    offline: false,
    context: null,
    items: [],
    usage: { promptTokens: 0, completionTokens: 0, costUsd: null, ttftMs: null, steps: 0 },
    error: null,
    lastSeq: 0,
  };
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function json(v: unknown): Json {
  return v === undefined ? null : (v as Json);
}

/** A call item in its first state. */
export function newCall(key: string, callId: string, tool: string, args: Json): CallItem {
  return {
    kind: 'call',
    key,
    toolCallId: null,
    callId,
    tool,
    title: null,
    context: null,
    arguments: args,
    status: 'requested',
    summary: null,
    structured: null,
    isError: false,
    durationMs: null,
    progress: null,
    approval: null,
  };
}

/** Finds the call an event is about: by toolCallId, else the latest unbound call with that callId. */
function findCall(items: RunItem[], d: Obj): number {
  const id = str(d.toolCallId);
  if (id) {
    const i = items.findIndex((it) => it.kind === 'call' && it.toolCallId === id);
    if (i >= 0) return i;
  }
  const callId = str(d.callId);
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    if (it.kind === 'call' && it.toolCallId === null && (callId === null ? it.tool === str(d.tool) : it.callId === callId)) {
      return i;
    }
  }
  return -1;
}

function closeStreams(items: RunItem[]): RunItem[] {
  return items.map((it) => (it.kind !== 'call' && !it.done ? { ...it, done: true } : it));
}

function upsertCall(view: RunView, seq: number, d: Obj, change: (c: CallItem) => CallItem): RunView {
  const items = closeStreams(view.items);
  let i = findCall(items, d);
  if (i < 0) {
    items.push(newCall(`c${seq}`, str(d.callId) ?? str(d.toolCallId) ?? `c${seq}`, str(d.tool) ?? 'tool', json(d.arguments)));
    i = items.length - 1;
  }
  const current = items[i] as CallItem;
  const bound: CallItem = {
    ...current,
    toolCallId: str(d.toolCallId) ?? current.toolCallId,
    callId: str(d.callId) ?? current.callId,
    tool: str(d.tool) ?? current.tool,
  };
  items[i] = change(bound);
  return { ...view, items };
}

function appendStream(view: RunView, kind: 'text' | 'thinking', seq: number, delta: string): RunView {
  const items = view.items.slice();
  const last = items[items.length - 1];
  if (last && last.kind === kind && !last.done) {
    items[items.length - 1] = { ...last, text: last.text + delta };
  } else {
    const closed = closeStreams(items);
    closed.push({ kind, key: `${kind[0]}${seq}`, text: delta, done: false });
    return { ...view, items: closed };
  }
  return { ...view, items };
}

/** Applies one run event to the view (events at or below `lastSeq` are ignored). */
export function applyEvent(view: RunView, seq: number, event: string, data: unknown): RunView {
  if (seq <= view.lastSeq) return view;
  const d = obj(data);
  const v: RunView = { ...view, lastSeq: seq };
  switch (event) {
    case 'run.started':
      return {
        ...v,
        provider: str(d.provider),
        model: str(d.model),
        offline: d.offline === true,
        context: str(d.context),
      };
    case 'message.delta':
      return appendStream(v, 'text', seq, str(d.delta) ?? '');
    case 'thinking':
      return appendStream(v, 'thinking', seq, str(d.delta) ?? '');
    case 'message.completed': {
      let items = closeStreams(v.items);
      const content = str(d.content) ?? '';
      // Text streamed as deltas since the previous call is this message's text already.
      let lastCall = -1;
      items.forEach((it, i) => {
        if (it.kind === 'call') lastCall = i;
      });
      const streamed = items.slice(lastCall + 1).some((it) => it.kind === 'text');
      if (content && !streamed) {
        items.push({ kind: 'text', key: `m${seq}`, text: content, done: true });
      }
      const calls = Array.isArray(d.toolCalls) ? d.toolCalls : [];
      calls.forEach((c, n) => {
        const call = obj(c);
        items = items.concat(newCall(`c${seq}-${n}`, str(call.id) ?? `${seq}-${n}`, str(call.name) ?? 'tool', json(call.arguments)));
      });
      return { ...v, items };
    }
    case 'approval.required':
      return upsertCall({ ...v, status: 'waiting_approval' }, seq, d, (c) => ({
        ...c,
        title: str(d.title) ?? c.title,
        context: str(d.context) ?? c.context,
        arguments: json(d.arguments ?? c.arguments),
        status: 'pending_approval',
        approval: {
          approvalId: str(d.approvalId),
          toolCallId: str(d.toolCallId) ?? '',
          tool: str(d.tool) ?? c.tool,
          context: str(d.context),
          arguments: json(d.arguments),
          preview: d.preview ? (d.preview as Preview) : null,
          previewHash: str(d.previewHash) ?? '',
          hints: d.hints ? (d.hints as Hints) : null,
          status: 'pending',
          decidedBy: null,
          reason: null,
        },
      }));
    case 'approval.resolved':
      return upsertCall(v.status === 'waiting_approval' ? { ...v, status: 'running' } : v, seq, d, (c) => {
        const base: ApprovalView = c.approval ?? {
          approvalId: str(d.approvalId),
          toolCallId: str(d.toolCallId) ?? '',
          tool: c.tool,
          context: c.context,
          arguments: c.arguments,
          preview: null,
          previewHash: '',
          hints: null,
          status: 'pending',
          decidedBy: null,
          reason: null,
        };
        const decision = (str(d.decision) ?? 'approved') as ApprovalStatus;
        return {
          ...c,
          status: decision === 'approved' ? 'running' : decision === 'denied' ? 'denied' : 'cancelled',
          approval: { ...base, status: decision, decidedBy: str(d.decidedBy), reason: str(d.reason) },
        };
      });
    case 'tool.started':
      return upsertCall(v, seq, d, (c) => ({
        ...c,
        title: str(d.title) ?? c.title,
        context: str(d.context) ?? c.context,
        arguments: d.arguments === undefined ? c.arguments : json(d.arguments),
        status: 'running',
      }));
    case 'tool.progress':
      return upsertCall(v, seq, d, (c) => ({
        ...c,
        progress: { progress: num(d.progress) ?? 0, total: num(d.total), message: str(d.message) },
      }));
    case 'tool.result':
      return upsertCall(v, seq, d, (c) => ({
        ...c,
        status: (str(d.status) ?? (d.isError ? 'failed' : 'succeeded')) as ToolCallStatus,
        isError: d.isError === true,
        summary: str(d.summary),
        structured: json(d.structured),
        durationMs: num(d.durationMs),
        progress: null,
      }));
    case 'usage': {
      const u = v.usage;
      return {
        ...v,
        usage: {
          promptTokens: u.promptTokens + (num(d.promptTokens) ?? 0),
          completionTokens: u.completionTokens + (num(d.completionTokens) ?? 0),
          costUsd: num(d.costUsd) === null ? u.costUsd : (u.costUsd ?? 0) + (num(d.costUsd) ?? 0),
          ttftMs: u.ttftMs ?? num(d.ttftMs),
          steps: Math.max(u.steps, num(d.step) ?? u.steps + 1),
        },
      };
    }
    case 'error':
      return { ...v, error: str(d.message) ?? 'the run failed' };
    case 'run.finished': {
      const status = (str(d.status) ?? 'completed') as RunStatus;
      const items = closeStreams(v.items).map((it) =>
        it.kind === 'call' && (it.status === 'running' || it.status === 'requested' || it.status === 'pending_approval')
          ? { ...it, status: 'cancelled' as const }
          : it,
      );
      return {
        ...v,
        items,
        status,
        error: str(d.error) ?? v.error,
        usage: {
          ...v.usage,
          promptTokens: num(d.promptTokens) ?? v.usage.promptTokens,
          completionTokens: num(d.completionTokens) ?? v.usage.completionTokens,
          costUsd: num(d.costUsd) ?? v.usage.costUsd,
          ttftMs: num(d.ttftMs) ?? v.usage.ttftMs,
        },
      };
    }
    default:
      return v;
  }
}

/** True while a run can still change. */
export function isActive(status: RunStatus): boolean {
  return status === 'running' || status === 'waiting_approval';
}
