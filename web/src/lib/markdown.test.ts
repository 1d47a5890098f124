import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
  it('renders Markdown', () => {
    const html = renderMarkdown('# Title\n\n**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<code>code</code>');
    expect(html).toContain('<table>');
  });

  it('removes scripts and event handlers', () => {
    const html = renderMarkdown('hi <script>alert(1)</script><b onclick="alert(2)">x</b><svg onload=alert(3)>');
    expect(html).not.toMatch(/script|onclick|onload|svg|alert/i);
    expect(html).toContain('<b>x</b>');
  });

  it('neutralises javascript: links and opens links safely', () => {
    const html = renderMarkdown('[a](javascript:alert(1)) [b](https://example.org)');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('href="https://example.org"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
  });

  it('loads nothing: images, iframes, styles and forms are dropped', () => {
    const html = renderMarkdown(
      '![x](http://evil.test/p.png)<img src=x onerror=alert(1)><iframe src="http://evil.test"></iframe>' +
        '<style>body{display:none}</style><form action="/x"><input></form><p style="color:red">t</p>',
    );
    expect(html).not.toMatch(/<img|<iframe|<style|<form|<input|style=|evil\.test/i);
    expect(html).toContain('t');
  });

  it('escapes HTML inside code', () => {
    const html = renderMarkdown('```\n<script>alert(1)</script>\n```');
    expect(html).toContain('&lt;script&gt;');
  });

  it('renders incomplete Markdown while it streams', () => {
    expect(renderMarkdown('a **bo')).toContain('a **bo');
    expect(renderMarkdown('```yaml\nkind: Pod')).toContain('kind: Pod');
  });
});
