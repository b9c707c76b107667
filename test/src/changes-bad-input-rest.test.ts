/**
 * Bad updates, deletes, appends and annotations over REST (JSON and msgpack), as a table: each
 * request, the ErrorInfo it must get (code and statusCode); the message is unchanged by every
 * refusal. The same over realtime is in changes-bad-input.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rest, type Format } from './helpers/ably.js';
import { FAKE_SERIAL } from './helpers/fake-serial.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

interface RestRow {
  label: string;
  method: string;
  path: (serial: string) => string;
  body?: unknown;
  key?: string;
  code: number;
  status: number;
}

const M = 'mutable:rest-bad';
const enc = encodeURIComponent;

const REST_ROWS: RestRow[] = [
  {
    label: 'GET of an unknown serial',
    method: 'get',
    path: () => `/channels/${enc(M)}/messages/${enc(FAKE_SERIAL)}`,
    code: 40400,
    status: 404,
  },
  {
    label: 'GET versions of an unknown serial',
    method: 'get',
    path: () => `/channels/${enc(M)}/messages/${enc(FAKE_SERIAL)}/versions`,
    code: 40400,
    status: 404,
  },
  {
    label: 'GET annotations of an unknown serial',
    method: 'get',
    path: () => `/channels/${enc(M)}/messages/${enc(FAKE_SERIAL)}/annotations`,
    code: 40400,
    status: 404,
  },
  {
    label: 'GET without history capability',
    method: 'get',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}`,
    key: KEYS.subscribeOnly,
    code: 40160,
    status: 401,
  },
  {
    label: 'PATCH without an action',
    method: 'patch',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}`,
    body: { data: 'x' },
    code: 40003,
    status: 400,
  },
  {
    label: 'PATCH with a create action',
    method: 'patch',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}`,
    body: { action: 0, data: 'x' },
    code: 40003,
    status: 400,
  },
  {
    label: 'PATCH naming another serial',
    method: 'patch',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}`,
    body: { action: 1, serial: FAKE_SERIAL },
    code: 40003,
    status: 400,
  },
  {
    label: 'PATCH with a body that is not a message',
    method: 'patch',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}`,
    body: [1, 2],
    code: 40000,
    status: 400,
  },
  {
    label: 'PATCH with metadata that is not strings',
    method: 'patch',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}`,
    body: { action: 1, version: { metadata: { a: 1 } } },
    code: 40000,
    status: 400,
  },
  {
    label: 'PATCH on a channel without mutableMessages',
    method: 'patch',
    path: (s) => `/channels/plain/messages/${enc(s)}`,
    body: { action: 1 },
    code: 93002,
    status: 400,
  },
  {
    label: 'PATCH of an unknown serial',
    method: 'patch',
    path: () => `/channels/${enc(M)}/messages/${enc(FAKE_SERIAL)}`,
    body: { action: 2 },
    code: 40400,
    status: 404,
  },
  {
    label: 'PATCH without capability',
    method: 'patch',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}`,
    body: { action: 1 },
    key: KEYS.subscribeOnly,
    code: 40160,
    status: 401,
  },
  {
    label: 'POST annotations naming another message',
    method: 'post',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}/annotations`,
    body: [{ type: 'r:total.v1', messageSerial: FAKE_SERIAL }],
    code: 40003,
    status: 400,
  },
  {
    label: 'POST an empty array of annotations',
    method: 'post',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}/annotations`,
    body: [],
    code: 40000,
    status: 400,
  },
  {
    label: 'POST an annotation without a type',
    method: 'post',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}/annotations`,
    body: [{ name: 'x' }],
    code: 40003,
    status: 400,
  },
  {
    label: 'POST an annotation with a bad action',
    method: 'post',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}/annotations`,
    body: [{ type: 'r:total.v1', action: 7 }],
    code: 40003,
    status: 400,
  },
  {
    label: 'POST an annotation past maxMessageSize',
    method: 'post',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}/annotations`,
    body: [{ type: 'r:total.v1', data: 'z'.repeat(70_000) }],
    code: 40009,
    status: 400,
  },
  {
    label: 'POST a count on a distinct annotation',
    method: 'post',
    path: (s) => `/channels/${enc(M)}/messages/${enc(s)}/annotations`,
    body: [{ type: 'r:distinct.v1', name: 'a', count: 2, clientId: 'c' }],
    code: 40003,
    status: 400,
  },
];

for (const format of ['json', 'msgpack'] as Format[]) {
  describe(`bad message changes over REST: ${format}`, () => {
    let ts: TestServer;
    let serial: string;
    before(async () => {
      ts = await startServer();
      serial = (await rest(ts, format).channels.get(M).publish('m', 'text')).serials[0]!;
    });
    after(async () => {
      await ts.close();
    });

    for (const row of REST_ROWS) {
      it(`${row.label}: ${row.code}`, async () => {
        const client = rest(ts, format, row.key ? { key: row.key } : {});
        const res = await client.request(row.method, row.path(serial), 3, null, row.body ?? null, null);
        assert.equal(res.statusCode, row.status, res.errorMessage);
        assert.equal(res.errorCode, row.code, res.errorMessage);
      });
    }

    it('the message is unchanged by every refusal', async () => {
      const latest = await rest(ts, format).channels.get(M).getMessage(serial);
      assert.equal(latest.action, 'message.create');
    });
  });
}
