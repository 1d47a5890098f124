import { describe, expect, it } from 'vitest';
import type { ConversationReplay } from '../api/types';
import { replayConversation } from './replay';
import { type CallItem, type RunView, applyEvent, emptyRun } from './run';

type Ev = [string, unknown];

function play(events: Ev[], view: RunView = emptyRun('r1')): RunView {
  return events.reduce((v, [event, data], i) => applyEvent(v, v.lastSeq + 1 + (i - i), event, data), view);
}

const scale: Ev[] = [
  ['run.started', { runId: 'r1', provider: 'openai', model: 'scripted', offline: false, context: null }],
  ['thinking', { delta: 'Let me ' }],
  ['thinking', { delta: 'think.' }],
  ['message.delta', { delta: 'I will ' }],
  ['message.delta', { delta: 'scale cart.' }],
  ['usage', { step: 1, promptTokens: 120, completionTokens: 15, costUsd: null, ttftMs: 42 }],
  ['message.completed', { content: 'I will scale cart.', toolCalls: [{ id: 'call_0_0', name: 'workload_scale', arguments: { name: 'cart', replicas: 4 } }] }],
  ['approval.required', { approvalId: 'a1', toolCallId: 'tc1', callId: 'call_0_0', tool: 'workload_scale', title: 'Scale', context: 'sim', arguments: { name: 'cart', replicas: 4 }, preview: { kind: 'dry-run', diff: '-a\n+b' }, previewHash: 'h1', hints: { readOnly: false } }],
  ['approval.resolved', { approvalId: 'a1', toolCallId: 'tc1', tool: 'workload_scale', decision: 'approved', decidedBy: 'admin', reason: null }],
  ['tool.started', { toolCallId: 'tc1', callId: 'call_0_0', tool: 'workload_scale', context: 'sim', arguments: { name: 'cart', replicas: 4 } }],
  ['tool.result', { toolCallId: 'tc1', callId: 'call_0_0', tool: 'workload_scale', status: 'succeeded', isError: false, summary: 'scaled', structured: { replicas: 4 }, durationMs: 12 }],
  ['message.delta', { delta: 'Done.' }],
  ['usage', { step: 2, promptTokens: 200, completionTokens: 10, costUsd: null, ttftMs: 30 }],
  ['message.completed', { content: 'Done.', toolCalls: [] }],
  ['run.finished', { runId: 'r1', status: 'completed', error: null, promptTokens: 320, completionTokens: 25, costUsd: null, ttftMs: 42 }],
];

describe('applyEvent', () => {
  it('builds text, thinking and one call with its approval, in order', () => {
    const v = play(scale);
    expect(v.items.map((i) => i.kind)).toEqual(['thinking', 'text', 'call', 'text']);
    expect(v.items[0]).toMatchObject({ text: 'Let me think.', done: true });
    expect(v.items[1]).toMatchObject({ text: 'I will scale cart.', done: true });
    const call = v.items[2] as CallItem;
    expect(call).toMatchObject({ toolCallId: 'tc1', tool: 'workload_scale', status: 'succeeded', summary: 'scaled', durationMs: 12, context: 'sim' });
    expect(call.approval).toMatchObject({ approvalId: 'a1', status: 'approved', decidedBy: 'admin', previewHash: 'h1' });
    expect(v.status).toBe('completed');
    expect(v.usage).toMatchObject({ promptTokens: 320, completionTokens: 25, ttftMs: 42, steps: 2 });
  });

  it('ignores events already applied (a resumed stream)', () => {
    const v = play(scale.slice(0, 5));
    const again = applyEvent(v, 3, 'message.delta', { delta: 'DUPLICATE' });
    expect(again).toBe(v);
  });

  it('shows a denial on the call', () => {
    const v = play([
      ...scale.slice(0, 8),
      ['approval.resolved', { approvalId: 'a1', toolCallId: 'tc1', tool: 'workload_scale', decision: 'denied', decidedBy: 'admin', reason: 'not now' }],
      ['tool.result', { toolCallId: 'tc1', callId: 'call_0_0', tool: 'workload_scale', status: 'denied', isError: true, summary: 'denied by admin: not now', structured: null, durationMs: 0 }],
    ]);
    const call = v.items.find((i) => i.kind === 'call') as CallItem;
    expect(call.status).toBe('denied');
    expect(call.approval).toMatchObject({ status: 'denied', reason: 'not now' });
  });

  it('notes the offline assistant and errors', () => {
    const v = play([
      ['run.started', { offline: true, provider: 'offline' }],
      ['error', { message: 'the provider is unavailable' }],
      ['run.finished', { status: 'failed', error: 'the provider is unavailable' }],
    ]);
    expect(v.offline).toBe(true);
    expect(v.error).toBe('the provider is unavailable');
    expect(v.status).toBe('failed');
  });

  it('adds a message that arrived whole (no deltas)', () => {
    const v = play([['message.completed', { content: 'All good.', toolCalls: [] }]]);
    expect(v.items).toEqual([{ kind: 'text', key: 'm1', text: 'All good.', done: true }]);
  });

  it('cancels calls left open when the run ends', () => {
    const v = play([...scale.slice(0, 8), ['run.finished', { status: 'stopped' }]]);
    expect((v.items[2] as CallItem).status).toBe('cancelled');
  });
});

describe('replayConversation', () => {
  const base = { userId: 'u', createdAt: 1, updatedAt: 1, promptTokens: 0, completionTokens: 0, costUsd: null };
  const replay: ConversationReplay = {
    conversation: { id: 'c1', title: 'scale cart', ...base },
    messages: [
      { id: 'm1', conversationId: 'c1', runId: null, seq: 1, role: 'user', data: { role: 'user', content: 'scale cart to 4' }, createdAt: 1 },
      { id: 'm2', conversationId: 'c1', runId: 'r1', seq: 2, role: 'assistant', data: { role: 'assistant', content: 'I will scale cart.', tool_calls: [{ id: 'call_0_0', name: 'workload_scale', arguments: { name: 'cart', replicas: 4 } }] }, createdAt: 2 },
      { id: 'm3', conversationId: 'c1', runId: 'r1', seq: 3, role: 'tool', data: { role: 'tool', call_id: 'call_0_0', name: 'workload_scale', content: 'scaled\n\n{}' }, createdAt: 3 },
      { id: 'm4', conversationId: 'c1', runId: 'r1', seq: 4, role: 'assistant', data: { role: 'assistant', content: 'Done.' }, createdAt: 4 },
      { id: 'm5', conversationId: 'c1', runId: null, seq: 5, role: 'user', data: { role: 'user', content: 'and now?' }, createdAt: 5 },
    ],
    runs: [
      { id: 'r1', conversationId: 'c1', userId: 'u', status: 'completed', provider: 'openai', model: 'm', startedAt: 1, finishedAt: 4, error: null, promptTokens: 320, completionTokens: 25, costUsd: null, ttftMs: 42, steps: 2 },
      { id: 'r2', conversationId: 'c1', userId: 'u', status: 'running', provider: 'openai', model: 'm', startedAt: 5, finishedAt: null, error: null, promptTokens: 0, completionTokens: 0, costUsd: null, ttftMs: null, steps: 0 },
    ],
    toolCalls: [
      { id: 'tc1', runId: 'r1', conversationId: 'c1', callId: 'call_0_0', tool: 'workload_scale', context: 'sim', arguments: { name: 'cart', replicas: 4 }, status: 'succeeded', result: { summary: 'scaled', structured: { replicas: 4 } }, isError: false, createdAt: 2, finishedAt: 3, durationMs: 12 },
    ],
    approvals: [
      { id: 'a1', toolCallId: 'tc1', runId: 'r1', conversationId: 'c1', tool: 'workload_scale', context: 'sim', arguments: { name: 'cart', replicas: 4 }, preview: { kind: 'dry-run', diff: '-a\n+b' }, previewHash: 'h1', status: 'approved', decidedBy: 'admin', reason: null, createdAt: 2, decidedAt: 3 },
    ],
  };

  it('replays what the live stream showed', () => {
    const ex = replayConversation(replay);
    expect(ex).toHaveLength(2);
    const live = play(scale);
    const stored = ex[0].run as RunView;
    const strip = (v: RunView) => v.items.filter((i) => i.kind !== 'thinking').map((i) => (i.kind === 'call' ? { ...i, key: '', title: null, progress: null, approval: i.approval && { ...i.approval, hints: null, preview: i.approval.preview } } : { ...i, key: '' }));
    expect(strip(stored)).toEqual(strip(live));
    expect(stored.usage).toEqual(live.usage);
    expect(ex[1]).toMatchObject({ message: { content: 'and now?' }, run: { runId: 'r2', status: 'running', items: [] } });
  });
});

describe('run status while at the gate', () => {
  it('waits for approval, then runs again', () => {
    const waiting = play(scale.slice(0, 8));
    expect(waiting.status).toBe('waiting_approval');
    expect(play(scale.slice(0, 9)).status).toBe('running');
  });
});
