/** The message box: Enter sends, Shift+Enter starts a new line; Stop (or Esc) stops the active run. */
import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';

/** Props of [`Composer`]. */
export interface ComposerProps {
  /** Sends the text; resolves true when it was accepted (then the box is cleared). */
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
  /** A run is in progress: sending waits, Stop is offered. */
  active: boolean;
  sending: boolean;
  stopping: boolean;
  error: string | null;
  contexts: string[];
  context: string;
  onContext: (c: string) => void;
}

/** The chat input. */
export function Composer(p: ComposerProps) {
  const [text, setText] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);
  const inputId = useId();
  const errorId = useId();

  useEffect(() => {
    ref.current?.focus();
    performance.mark('binnacle:chat-ready');
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [text]);

  async function submit() {
    const t = text.trim();
    if (!t || p.active || p.sending) return;
    if (await p.onSend(t)) setText('');
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void submit();
  }

  return (
    <form className="composer" onSubmit={onSubmit} aria-label="Send a message">
      <label htmlFor={inputId} className="sr-only">
        Message
      </label>
      <textarea
        id={inputId}
        ref={ref}
        name="message"
        rows={1}
        value={text}
        placeholder="Ask about your cluster, or ask for a change… (Enter sends, Shift+Enter new line)"
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        aria-describedby={p.error ? errorId : undefined}
        aria-invalid={p.error ? true : undefined}
        maxLength={32 * 1024}
      />
      <div className="composer-bar">
        {p.contexts.length > 1 && (
          <label className="ctx">
            <span>Cluster</span>
            <select value={p.context} onChange={(e) => p.onContext(e.target.value)}>
              {p.contexts.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="spacer" />
        {p.active ? (
          <button type="button" className="btn btn-stop" onClick={p.onStop} disabled={p.stopping} aria-keyshortcuts="Escape">
            {p.stopping ? 'Stopping…' : 'Stop'}
          </button>
        ) : (
          <button type="submit" className="btn btn-primary" disabled={p.sending || !text.trim()}>
            {p.sending ? 'Sending…' : 'Send'}
          </button>
        )}
      </div>
      {p.error && (
        <p id={errorId} className="error-text" role="alert">
          {p.error}
        </p>
      )}
    </form>
  );
}
