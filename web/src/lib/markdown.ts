/**
 * Markdown to safe HTML: `marked` renders, DOMPurify sanitises. Everything from the model or the cluster
 * goes through here before it reaches the page. Images, forms, frames, styles and scripts are removed
 * (the app loads nothing from the network); links open in a new tab without an opener.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: false, async: false });

let hooked = false;

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') ?? '';
      if (/^\s*(javascript|data|vbscript):/i.test(href)) node.removeAttribute('href');
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

const FORBID_TAGS = [
  'img', 'picture', 'source', 'video', 'audio', 'iframe', 'frame', 'object', 'embed', 'form', 'input',
  'button', 'textarea', 'select', 'option', 'style', 'link', 'meta', 'base', 'svg', 'math', 'template',
];
const FORBID_ATTR = ['style', 'class', 'id', 'srcset', 'formaction', 'xlink:href', 'action'];

/** Sanitises HTML (the result is safe to assign to `innerHTML`). */
export function sanitizeHtml(html: string): string {
  installHooks();
  return DOMPurify.sanitize(html, {
    FORBID_TAGS,
    FORBID_ATTR,
    ALLOW_DATA_ATTR: false,
    USE_PROFILES: { html: true },
  });
}

/** Renders Markdown to sanitised HTML. Incomplete Markdown (while streaming) renders as far as it goes. */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source) as string;
  return sanitizeHtml(html);
}
