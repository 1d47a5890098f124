/** Rebuilds a conversation's exchanges (each user message and the run that answered it) from the store. */
import type { Approval, ConversationReplay, Json, Message, Preview, Run, ToolCall } from '../api/types';
import { type ApprovalView, type CallItem, type RunItem, type RunView, emptyRun, newCall } from './run';

/** One user message and its run. */
export interface Exchange {
  key: string;
  message: { content: string; context: string | null; createdAt: number };
  run: RunView | null;
}

function approvalView(a: Approval): ApprovalView {
  return {
    approvalId: a.id,
    toolCallId: a.toolCallId,
    tool: a.tool,
    context: a.context,
    arguments: a.arguments,
    preview: a.preview as Preview,
    previewHash: a.previewHash,
    hints: null,
    status: a.status,
    decidedBy: a.decidedBy,
    reason: a.reason,
  };
}

function resultParts(tc: ToolCall): { summary: string | null; structured: Json } {
  const r = tc.result;
  if (r && typeof r === 'object' && !Array.isArray(r)) {
    if (typeof r.error === 'string') return { summary: r.error, structured: null };
    return { summary: typeof r.summary === 'string' ? r.summary : null, structured: r.structured ?? null };
  }
  return { summary: null, structured: null };
}

function callFrom(key: string, callId: string, name: string, args: Json, tc: ToolCall | undefined, a: Approval | undefined, toolMsg: Message | undefined): CallItem {
  const c = newCall(key, callId, name, args);
  if (tc) {
    const { summary, structured } = resultParts(tc);
    c.toolCallId = tc.id;
    c.tool = tc.tool;
    c.context = tc.context;
    c.arguments = tc.arguments;
    c.status = tc.status;
    c.isError = tc.isError;
    c.durationMs = tc.durationMs;
    c.summary = summary;
    c.structured = structured;
  } else if (toolMsg && toolMsg.data.role === 'tool') {
    c.status = toolMsg.data.is_error ? 'failed' : 'succeeded';
    c.isError = toolMsg.data.is_error === true;
    c.summary = toolMsg.data.content;
  }
  if (a) c.approval = approvalView(a);
  return c;
}

/** The stored run as a view: its assistant messages, calls and approvals in order. */
export function runFromStore(run: Run, messages: Message[], toolCalls: ToolCall[], approvals: Approval[]): RunView {
  const view = emptyRun(run.id, run.status);
  view.provider = run.provider;
  view.model = run.model;
  view.offline = run.provider === 'offline';
  view.error = run.error;
  view.usage = {
    promptTokens: run.promptTokens,
    completionTokens: run.completionTokens,
    costUsd: run.costUsd,
    ttftMs: run.ttftMs,
    steps: run.steps,
  };
  const items: RunItem[] = [];
  const mine = messages.filter((m) => m.runId === run.id);
  const calls = toolCalls.filter((t) => t.runId === run.id);
  for (const m of mine) {
    if (m.data.role !== 'assistant') continue;
    if (m.data.thinking) items.push({ kind: 'thinking', key: `t${m.seq}`, text: m.data.thinking, done: true });
    if (m.data.content) items.push({ kind: 'text', key: `m${m.seq}`, text: m.data.content, done: true });
    (m.data.tool_calls ?? []).forEach((req, n) => {
      const tc = calls.find((t) => t.callId === req.id);
      const a = tc ? approvals.find((x) => x.toolCallId === tc.id) : undefined;
      const toolMsg = mine.find((x) => x.data.role === 'tool' && x.data.call_id === req.id);
      items.push(callFrom(`m${m.seq}-${n}`, req.id, req.name, req.arguments, tc, a, toolMsg));
    });
  }
  view.items = items;
  return view;
}

/**
 * Pairs each user message with the run it started: by the message's `runId`, or for older records without
 * one, by order (the n-th user message started the n-th run).
 */
export function replayConversation(r: ConversationReplay): Exchange[] {
  const messages = r.messages.slice().sort((a, b) => a.seq - b.seq);
  const runs = r.runs.slice().sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  const users = messages.filter((m) => m.data.role === 'user');
  return users.map((m, i) => {
    const run = (m.runId ? runs.find((x) => x.id === m.runId) : undefined) ?? runs[i];
    const data = m.data.role === 'user' ? m.data : { content: '', context: undefined };
    return {
      key: m.id,
      message: { content: data.content, context: data.context ?? null, createdAt: m.createdAt },
      run: run ? runFromStore(run, messages, r.toolCalls, r.approvals) : null,
    };
  });
}
