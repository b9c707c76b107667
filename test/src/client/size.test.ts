/**
 * Bundle budgets of @encke/client (issue 16): the browser build of the core with WebSocket and
 * long-polling at most 12 KB min+gzip, each further transport at most 3 KB more, measured by
 * packages/client/scripts/size.mjs with esbuild exactly as the docs report it.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
import { field } from '../helpers/field.js';
import { importModule } from '../helpers/module.js';
import assert from 'node:assert/strict';
import { it } from 'node:test';

interface Row {
  name: string;
  min: number;
  gzip: number;
  budget?: number;
}

const isRow = (v: unknown): v is Row =>
  isPlainObject(v) &&
  typeof v.name === 'string' &&
  typeof v.min === 'number' &&
  typeof v.gzip === 'number' &&
  (v.budget === undefined || typeof v.budget === 'number');

it(
  'core + web_socket + xhr_polling ≤ 12 KB and each extra transport ≤ 3 KB (min+gzip)',
  { timeout: 120_000 },
  async () => {
    const size = await importModule(new URL('../../../packages/client/scripts/size.mjs', import.meta.url).href);
    assert.ok(typeof size === 'object' && size !== null);
    const measure = field(size, 'measure');
    assert.ok(typeof measure === 'function');
    // scripts/size.mjs's measure() (checked above to be a function); what it resolves to is checked.
    const rows: unknown = await (measure as () => Promise<unknown>)();
    assert.ok(isArrayValue(rows) && rows.every(isRow), `measure() resolves to rows: ${JSON.stringify(rows)}`);
    const budgeted = rows.filter((r) => r.budget !== undefined);
    assert.ok(budgeted.length >= 2, 'the core and at least one extra transport are measured');
    for (const r of budgeted) assert.ok(r.gzip <= (r.budget ?? 0), `${r.name.trim()}: ${r.gzip} B > ${r.budget} B`);
    assert.ok(
      rows.some((r) => r.name.startsWith('ably-js')),
      'the official SDK is measured beside it',
    );
  },
);
