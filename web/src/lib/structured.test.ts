import { describe, expect, it } from 'vitest';
import { tableOf, toYaml } from './structured';

describe('toYaml', () => {
  it('writes nested objects and lists in block style', () => {
    const y = toYaml({ kind: 'Deployment', spec: { replicas: 4, ports: [80, 443] }, items: [{ a: 1, b: 'x' }] });
    expect(y).toBe(
      ['kind: Deployment', 'spec:', '  replicas: 4', '  ports:', '  - 80', '  - 443', 'items:', '- a: 1', '  b: x'].join(
        '\n',
      ),
    );
  });

  it('quotes strings that would read as something else', () => {
    expect(toYaml({ a: 'true', b: '12', c: 'x: y', d: '', e: null })).toBe(
      'a: "true"\nb: "12"\nc: "x: y"\nd: \'\'\ne: null',
    );
  });

  it('writes multi-line strings as blocks', () => {
    expect(toYaml({ log: 'one\ntwo' })).toBe('log: |-\n  one\n  two');
  });

  it('writes empty containers inline', () => {
    expect(toYaml({ a: [], b: {} })).toBe('a: []\nb: {}');
  });
});

describe('tableOf', () => {
  it('finds a list of records under a key', () => {
    const t = tableOf({ count: 2, findings: [{ severity: 'critical', name: 'a', evidence: { x: 1 } }, { severity: 'warning', name: 'b' }] });
    expect(t).toEqual({ path: 'findings', columns: ['severity', 'name'], rows: [['critical', 'a'], ['warning', 'b']], more: 0 });
  });

  it('reads a top-level array', () => {
    expect(tableOf([{ name: 'p', ready: true, tags: ['a', 'b'] }])?.rows).toEqual([['p', 'true', 'a, b']]);
  });

  it('gives up on values that are not records', () => {
    expect(tableOf({ a: 1 })).toBeNull();
    expect(tableOf([1, 2])).toBeNull();
    expect(tableOf(null)).toBeNull();
  });
});
