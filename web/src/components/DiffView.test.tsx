import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { DiffView } from './DiffView';

describe('DiffView', () => {
  const diff = '--- a\n+++ b\n@@ -1,3 +1,3 @@\n spec:\n-  replicas: 2\n+  replicas: 4\n   x: <b>y</b>\n';

  it('colours added and removed lines by class', () => {
    const html = renderToStaticMarkup(<DiffView diff={diff} />);
    expect(html).toContain('class="diff-line diff-add" data-kind="added"');
    expect(html).toContain('class="diff-line diff-del" data-kind="removed"');
    expect(html).toMatch(/diff-add[^>]*>.*\+  replicas: 4/);
    expect(html).toMatch(/diff-del[^>]*>.*-  replicas: 2/);
  });

  it('summarises the change for screen readers', () => {
    const html = renderToStaticMarkup(<DiffView diff={diff} />);
    expect(html).toContain('aria-label="Dry-run diff: 1 lines added, 1 removed"');
    expect(html).toContain('+1');
    expect(html).toContain('−1');
  });

  it('escapes the diff text', () => {
    const html = renderToStaticMarkup(<DiffView diff={diff} />);
    expect(html).toContain('&lt;b&gt;y&lt;/b&gt;');
    expect(html).not.toContain('<b>y</b>');
  });

  it('says when there is nothing to show', () => {
    expect(renderToStaticMarkup(<DiffView diff="" />)).toContain('No changes.');
  });
});
