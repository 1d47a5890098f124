import { describe, expect, it } from 'vitest';
import { diffStats, parseUnifiedDiff } from './diff';

const DIFF = `--- shop/deployment/cart (live)
+++ shop/deployment/cart (after)
@@ -5,7 +5,7 @@
   name: cart
   namespace: shop
 spec:
-  replicas: 2
+  replicas: 4
   selector:
     matchLabels:
\\ No newline at end of file
`;

describe('parseUnifiedDiff', () => {
  it('types every line', () => {
    const lines = parseUnifiedDiff(DIFF);
    expect(lines.map((l) => l.kind)).toEqual([
      'file', 'file', 'hunk', 'context', 'context', 'context', 'del', 'add', 'context', 'context', 'note',
    ]);
  });

  it('numbers old and new lines from the hunk header', () => {
    const lines = parseUnifiedDiff(DIFF);
    const del = lines.find((l) => l.kind === 'del');
    const add = lines.find((l) => l.kind === 'add');
    expect(del).toMatchObject({ text: '-  replicas: 2', oldNo: 8, newNo: null });
    expect(add).toMatchObject({ text: '+  replicas: 4', oldNo: null, newNo: 8 });
    expect(lines[3]).toMatchObject({ oldNo: 5, newNo: 5 });
  });

  it('counts additions and removals', () => {
    expect(diffStats(parseUnifiedDiff(DIFF))).toEqual({ added: 1, removed: 1 });
  });

  it('handles several documents and CRLF', () => {
    const two = '--- a\r\n+++ b\r\n@@ -1 +1 @@\r\n-x\r\n+y\r\n--- c\r\n+++ d\r\n@@ -1,0 +1,2 @@\r\n+p\r\n+q\r\n';
    const lines = parseUnifiedDiff(two);
    expect(lines.filter((l) => l.kind === 'file')).toHaveLength(4);
    expect(diffStats(lines)).toEqual({ added: 3, removed: 1 });
    expect(lines.every((l) => !l.text.endsWith('\r'))).toBe(true);
  });

  it('returns nothing for an empty diff', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
  });
});
