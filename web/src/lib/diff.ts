/** Unified diffs split into typed lines, for the approval card's diff view. */

/** What a line of a unified diff is. */
export type DiffLineKind = 'file' | 'hunk' | 'add' | 'del' | 'context' | 'note';

/** One line of a diff. */
export interface DiffLine {
  kind: DiffLineKind;
  /** The line as it was, marker included. */
  text: string;
  /** Line number on the old side (context and removed lines). */
  oldNo: number | null;
  /** Line number on the new side (context and added lines). */
  newNo: number | null;
}

/** Counts of a diff's changes. */
export interface DiffStats {
  added: number;
  removed: number;
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/** Splits a unified diff into typed lines with old/new line numbers. */
export function parseUnifiedDiff(diff: string): DiffLine[] {
  const lines = diff.replace(/\r\n/g, '\n').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  const out: DiffLine[] = [];
  for (const text of lines) {
    const hunk = HUNK.exec(text);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      inHunk = true;
      out.push({ kind: 'hunk', text, oldNo: null, newNo: null });
    } else if (!inHunk && (text.startsWith('--- ') || text.startsWith('+++ ') || text.startsWith('diff '))) {
      out.push({ kind: 'file', text, oldNo: null, newNo: null });
    } else if (text.startsWith('+++ ') || text.startsWith('--- ')) {
      // A new file header after a hunk (several documents in one preview).
      inHunk = false;
      out.push({ kind: 'file', text, oldNo: null, newNo: null });
    } else if (text.startsWith('+')) {
      out.push({ kind: 'add', text, oldNo: null, newNo: newNo++ });
    } else if (text.startsWith('-')) {
      out.push({ kind: 'del', text, oldNo: oldNo++, newNo: null });
    } else if (text.startsWith('\\') || text.startsWith('…')) {
      out.push({ kind: 'note', text, oldNo: null, newNo: null });
    } else if (inHunk) {
      out.push({ kind: 'context', text, oldNo: oldNo++, newNo: newNo++ });
    } else {
      out.push({ kind: 'note', text, oldNo: null, newNo: null });
    }
  }
  return out;
}

/** How many lines a diff adds and removes. */
export function diffStats(lines: DiffLine[]): DiffStats {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.kind === 'add') added++;
    else if (l.kind === 'del') removed++;
  }
  return { added, removed };
}
