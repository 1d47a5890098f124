import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

function all(chunks: string[]) {
  const p = new SseParser();
  const events = [];
  const comments = [];
  for (const c of chunks) {
    const out = p.push(c);
    events.push(...out.events);
    comments.push(...out.comments);
  }
  return { events, comments, parser: p };
}

describe('SseParser', () => {
  it('parses id, event and data', () => {
    const { events, parser } = all(['id: 1\nevent: run.started\ndata: {"a":1}\n\n']);
    expect(events).toEqual([{ id: '1', event: 'run.started', data: '{"a":1}' }]);
    expect(parser.lastEventId).toBe('1');
  });

  it('joins multi-line data with newlines', () => {
    const { events } = all(['data: one\ndata: two\ndata:\ndata: four\n\n']);
    expect(events[0].data).toBe('one\ntwo\n\nfour');
    expect(events[0].event).toBe('message');
  });

  it('keeps comments (heartbeats) out of events', () => {
    const { events, comments } = all([': heartbeat\n\n:another\nid: 3\nevent: usage\ndata: x\n\n']);
    expect(comments).toEqual(['heartbeat', 'another']);
    expect(events).toEqual([{ id: '3', event: 'usage', data: 'x' }]);
  });

  it('accepts CRLF and CR line endings, also split across chunks', () => {
    const { events } = all(['id: 1\r\nevent: a\r', '\ndata: x\r', '\r', 'id: 2\revent: b\rdata: y\r\r']);
    expect(events).toEqual([
      { id: '1', event: 'a', data: 'x' },
      { id: '2', event: 'b', data: 'y' },
    ]);
  });

  it('reassembles fields split anywhere', () => {
    const text = 'id: 12\nevent: message.delta\ndata: {"delta":"hé llo"}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const { events } = all([text.slice(0, cut), text.slice(cut)]);
      expect(events).toEqual([{ id: '12', event: 'message.delta', data: '{"delta":"hé llo"}' }]);
    }
  });

  it('removes only one leading space and keeps the rest of the value', () => {
    const { events } = all(['data:  two spaces\ndata:no space\n\n']);
    expect(events[0].data).toBe(' two spaces\nno space');
  });

  it('does not dispatch an event without data, but remembers its id', () => {
    const { events, parser } = all(['id: 7\nevent: x\n\n']);
    expect(events).toEqual([]);
    expect(parser.lastEventId).toBe('7');
  });

  it('drops an unterminated event at the end of the stream', () => {
    const p = new SseParser();
    expect(p.push('id: 1\ndata: complete\n\nid: 2\ndata: partial').events).toHaveLength(1);
    p.end();
    expect(p.push('\n\n').events).toEqual([]);
  });

  it('ignores unknown fields and parses retry', () => {
    const p = new SseParser();
    const out = p.push('foo: bar\nretry: 1500\nretry: soon\ndata: d\n\n');
    expect(out.retry).toBe(1500);
    expect(out.events[0].data).toBe('d');
  });

  it('treats a field without a colon as a field with an empty value', () => {
    const { events } = all(['data\ndata\n\n']);
    expect(events[0].data).toBe('\n');
  });
});
