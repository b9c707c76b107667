/**
 * What a held connection keeps on the heap: two V8 heap snapshots of the same server (before the
 * connections opened and while N of them are held, BENCH_HEAP_SNAPSHOT of run.ts) compared by what
 * each object is (its constructor, a closure's function, an array's kind, a native object's class),
 * in bytes and objects per connection.
 *
 *   node bench/dist/heap-diff.js BASELINE.heapsnapshot LOADED.heapsnapshot N [top]
 *
 * Strings are one row ("(strings)"), whatever their text. Self sizes only: a row is what objects of
 * that kind take themselves, not what they retain.
 */
import { isArrayValue, isPlainObject, parseJson } from '@encke/protocol';
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

/** Whether `value` is a heap snapshot as far as `tally` reads it (the node fields, types, nodes and strings). */
function isSnapshot(value: unknown): value is Snapshot {
  if (!isPlainObject(value) || !isPlainObject(value.snapshot)) return false;
  const meta = value.snapshot.meta;
  if (!isPlainObject(meta) || !isArrayValue(meta.node_types)) return false;
  const typeNames = meta.node_types[0];
  return (
    isArrayValue(meta.node_fields) &&
    meta.node_fields.every(isString) &&
    isArrayValue(typeNames) &&
    typeNames.every(isString) &&
    isArrayValue(value.nodes) &&
    value.nodes.every(isNumber) &&
    isArrayValue(value.strings) &&
    value.strings.every(isString)
  );
}

interface Row {
  bytes: number;
  count: number;
}

const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);

/** Self size and count of every kind of object in a snapshot. */
export function tally(file: string): Map<string, Row> {
  const snap = parseJson(readFileSync(file, 'utf8'));
  if (!isSnapshot(snap)) throw new Error(`${file}: not a V8 heap snapshot`);
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const rows = new Map<string, Row>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const key = STRING_TYPES.has(type)
      ? '(strings)'
      : `${type}: ${snap.strings[snap.nodes[i + nameAt]!]!.slice(0, 60)}`;
    const row = rows.get(key) ?? { bytes: 0, count: 0 };
    row.bytes += snap.nodes[i + sizeAt]!;
    row.count++;
    rows.set(key, row);
  }
  return rows;
}

function main(): void {
  const [baseline, loaded, n, top] = process.argv.slice(2);
  const connections = Number(n);
  if (!baseline || !loaded || !(connections > 0))
    throw new Error('usage: heap-diff.js BASELINE LOADED CONNECTIONS [top]');
  const before = tally(baseline);
  const after = tally(loaded);
  const diff = [...after].map(([key, row]) => {
    const was = before.get(key) ?? { bytes: 0, count: 0 };
    return { key, bytes: (row.bytes - was.bytes) / connections, count: (row.count - was.count) / connections };
  });
  diff.sort((a, b) => b.bytes - a.bytes);
  const total = diff.reduce((sum, d) => sum + d.bytes, 0);
  const out = [
    `per connection: ${total.toFixed(0)} B of heap (self sizes), ${connections} connections`,
    'bytes/conn  objects/conn  what',
  ];
  for (const d of diff.slice(0, Number(top ?? 40))) {
    if (Math.abs(d.bytes) < 1) break;
    out.push(`${d.bytes.toFixed(0).padStart(10)}  ${d.count.toFixed(2).padStart(12)}  ${d.key}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
