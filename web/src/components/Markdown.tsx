/** Sanitised Markdown (model output) as HTML; re-rendered as text streams in. */
import { memo, useMemo } from 'react';
import { renderMarkdown } from '../lib/markdown';

/** Renders `text` as sanitised Markdown. */
export const Markdown = memo(function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className={streaming ? 'md streaming' : 'md'} dangerouslySetInnerHTML={{ __html: html }} />;
});
