/** Readable views of a tool's structured result: a table when it is a list of records, else YAML. */
import type { Json, JsonObject } from '../api/types';

/** A table derived from a list of records. */
export interface TableView {
  /** Where the rows came from (`findings`, `items`…), or `''` for a top-level array. */
  path: string;
  columns: string[];
  rows: string[][];
  /** Rows not shown. */
  more: number;
}

const MAX_COLUMNS = 8;
const MAX_ROWS = 200;

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: Json | undefined): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function cell(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every(isScalar)) return v.map((x) => cell(x)).join(', ');
  return JSON.stringify(v);
}

/** The first list of records in a result (top level, or one level down), as a table; else `null`. */
export function tableOf(value: Json | undefined): TableView | null {
  let path = '';
  let list: Json[] | null = null;
  if (Array.isArray(value)) {
    list = value;
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (Array.isArray(v) && v.length > 0 && v.every(isObject)) {
        path = k;
        list = v;
        break;
      }
    }
  }
  if (!list || list.length === 0 || !list.every(isObject)) return null;
  const records = list as JsonObject[];
  const columns: string[] = [];
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      const simple = isScalar(v) || (Array.isArray(v) && v.every(isScalar));
      if (simple && !columns.includes(k) && columns.length < MAX_COLUMNS) columns.push(k);
    }
  }
  if (columns.length === 0) return null;
  const rows = records.slice(0, MAX_ROWS).map((r) => columns.map((c) => cell(r[c])));
  return { path, columns, rows, more: Math.max(0, records.length - MAX_ROWS) };
}

const PLAIN = /^[A-Za-z0-9_./@-][A-Za-z0-9_ ./@:()-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|~|-?\d[\d_.eE+-]*)$/i;

function yamlString(s: string, indent: string): string {
  if (s === '') return "''";
  if (s.includes('\n')) {
    const body = s.replace(/\n$/, '').split('\n').map((l) => `${indent}  ${l}`).join('\n');
    return `|${s.endsWith('\n') ? '' : '-'}\n${body}`;
  }
  if (PLAIN.test(s) && !RESERVED.test(s) && !s.endsWith(' ') && !s.includes(': ') && !s.includes(' #')) return s;
  return JSON.stringify(s);
}

function yamlKey(k: string): string {
  return PLAIN.test(k) && !k.includes(':') && !RESERVED.test(k) ? k : JSON.stringify(k);
}

function yamlLines(v: Json, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return v
      .map((item) => {
        if (isObject(item) && Object.keys(item).length > 0) {
          const inner = yamlLines(item, `${indent}  `);
          return `${indent}- ${inner.slice(indent.length + 2)}`;
        }
        if (Array.isArray(item) && item.length > 0) {
          return `${indent}-\n${yamlLines(item, `${indent}  `)}`;
        }
        return `${indent}- ${scalar(item, indent)}`;
      })
      .join('\n');
  }
  if (isObject(v)) {
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    return entries
      .map(([k, child]) => {
        const key = `${indent}${yamlKey(k)}:`;
        if ((isObject(child) && Object.keys(child).length > 0) || (Array.isArray(child) && child.length > 0)) {
          const nested = Array.isArray(child) ? yamlLines(child, indent) : yamlLines(child, `${indent}  `);
          return `${key}\n${nested}`;
        }
        return `${key} ${scalar(child, indent)}`;
      })
      .join('\n');
  }
  return `${indent}${scalar(v, indent)}`;
}

function scalar(v: Json, indent: string): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return yamlString(v, indent);
  if (Array.isArray(v)) return '[]';
  if (isObject(v)) return '{}';
  return String(v);
}

/** Any JSON value as readable YAML (block style; strings quoted only when needed). */
export function toYaml(value: Json): string {
  if (!Array.isArray(value) && !isObject(value)) return scalar(value, '');
  return yamlLines(value, '');
}
