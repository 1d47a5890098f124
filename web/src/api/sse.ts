/**
 * An incremental Server-Sent Events parser (the WHATWG `text/event-stream` rules): lines end with CRLF,
 * LF or CR (also split across chunks), `field: value` with one optional leading space, multi-line `data`,
 * `:` comments (heartbeats), `id` and `retry`; an empty line dispatches the event.
 */

/** One dispatched event. */
export interface SseMessage {
  /** The `id` in force when it was dispatched (the last one seen, as the spec says), or `null`. */
  id: string | null;
  /** The `event` field, `message` when absent. */
  event: string;
  /** The `data` lines joined with `\n`. */
  data: string;
}

/** What a chunk of the stream produced. */
export interface SseOutput {
  /** Events completed by this chunk. */
  events: SseMessage[];
  /** Comments seen (heartbeats), without the leading colon. */
  comments: string[];
  /** A `retry` value in milliseconds, if one arrived. */
  retry: number | null;
}

/** Parses a text/event-stream incrementally; feed it decoded text as it arrives. */
export class SseParser {
  private buffer = '';
  private sawCr = false;
  private data: string[] = [];
  private hasData = false;
  private eventType = '';
  private lastId: string | null = null;

  /** The last event id seen (what to send as `Last-Event-ID` on reconnect). */
  get lastEventId(): string | null {
    return this.lastId;
  }

  /** Feeds a chunk of text and returns what it completed. */
  push(chunk: string): SseOutput {
    const out: SseOutput = { events: [], comments: [], retry: null };
    let text = chunk;
    // A CR at the end of the previous chunk already ended a line: skip the LF that completes its CRLF.
    if (this.sawCr && text.startsWith('\n')) {
      text = text.slice(1);
    }
    this.sawCr = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer + text.slice(start, i);
      this.buffer = '';
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
      this.line(line, out);
    }
    this.buffer += text.slice(start);
    return out;
  }

  /** Ends the stream: an event without its closing blank line is dropped, as the spec says. */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.hasData = false;
    this.eventType = '';
    this.sawCr = false;
  }

  private line(line: string, out: SseOutput): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(':')) {
      out.comments.push(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) out.retry = Number(value);
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  private dispatch(out: SseOutput): void {
    if (this.hasData) {
      out.events.push({ id: this.lastId, event: this.eventType || 'message', data: this.data.join('\n') });
    }
    this.data = [];
    this.hasData = false;
    this.eventType = '';
  }
}
