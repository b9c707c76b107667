/**
 * Finding 4 of issue 12: `GET /channels` with a key whose `channel-metadata` covers only some
 * channels must reveal nothing about the others: not in items, not in `next` cursors, not in
 * whether a next page exists, whatever `prefix`, `limit` or `by`.
 */
import assert from 'node:assert/strict';
import { isArrayValue } from '@encke/protocol';
import { after, before, describe, it } from 'node:test';
import type { AppConfig } from '@encke/server';
import { TEST_APPS, startServer, type TestServer } from '../helpers/server.js';
import { responseAs, stringField } from '../helpers/json.js';
import { objectOf } from '../helpers/field.js';

const KEYS = {
  full: 'enum.full:enum-full-secret-01',
  public: 'enum.public:enum-public-secret1',
  mixed: 'enum.mixed:enum-mixed-secret-1',
};
const ACTIVE = [
  'aaa',
  'exact-one',
  'exact-one-more',
  'private:alpha',
  'private:beta',
  'pub',
  'public:a',
  'public:b',
  'public:c',
  'publicity',
  'room:chat',
  'room:secret',
  'zzz:chat',
];
const VISIBLE: Record<keyof typeof KEYS, string[]> = {
  full: ACTIVE,
  public: ['public:a', 'public:b', 'public:c'],
  mixed: ['exact-one', 'public:a', 'public:b', 'public:c', 'room:chat', 'zzz:chat'],
};

interface Listing {
  names: string[];
  /** Every cursor a `next` link carried. */
  cursors: string[];
}

describe('channel enumeration within the capability (issue 12, finding 4)', () => {
  let ts: TestServer;
  const get = (key: string, query: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${ts.port}/channels?${query}`, {
      headers: { authorization: `Basic ${Buffer.from(key).toString('base64')}` },
    });

  /** Follows `Link rel="next"` from the first page to the last. */
  async function list(key: string, query: string): Promise<Listing> {
    const out: Listing = { names: [], cursors: [] };
    let q = query;
    for (let page = 0; page < 50; page++) {
      const res = await get(key, q);
      assert.equal(res.status, 200);
      const items = await responseAs(res, isArrayValue, 'a JSON array');
      out.names.push(...items.map((i) => (typeof i === 'string' ? i : stringField(objectOf(i), 'name'))));
      const next = /<\.\/channels\?([^>]*)>; rel="next"/.exec(res.headers.get('link') ?? '');
      if (!next) return out;
      const cursor = new URLSearchParams(next[1]).get('cursor')!;
      out.cursors.push(cursor);
      q = next[1]!;
    }
    throw new Error('no last page');
  }

  before(async () => {
    const apps: AppConfig[] = [
      ...TEST_APPS,
      {
        id: 'enum',
        keys: [
          { key: KEYS.full },
          { key: KEYS.public, capability: { 'public:*': ['channel-metadata'] } },
          {
            key: KEYS.mixed,
            capability: {
              'public:*': ['channel-metadata', 'subscribe'],
              'exact-one': ['channel-metadata'],
              '*:chat': ['channel-metadata'],
              'private:*': ['subscribe'],
            },
          },
        ],
      },
    ];
    ts = await startServer({ apps });
    for (const name of ACTIVE) {
      const res = await fetch(`http://127.0.0.1:${ts.port}/channels/${encodeURIComponent(name)}/messages`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: '{"data":"x"}',
      });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    await ts.close();
  });

  for (const who of ['public', 'mixed', 'full'] as const) {
    for (const limit of [1, 2, 100]) {
      for (const by of ['id', 'value']) {
        it(`${who} key, limit=${limit}, by=${by}: exactly its channels, and cursors only ever name them`, async () => {
          const { names, cursors } = await list(KEYS[who], `limit=${limit}&by=${by}`);
          assert.deepEqual(names, VISIBLE[who]);
          for (const cursor of cursors)
            assert.ok(VISIBLE[who].includes(cursor), `cursor ${cursor} names a channel the key may not see`);
          assert.equal(
            cursors.length,
            Math.ceil(VISIBLE[who].length / limit) - 1,
            'a next page only when there is more to see',
          );
        });
      }
    }
  }

  for (const prefix of ['private:', 'private:a', 'aaa', 'room:s', 'z', 'pub']) {
    it(`public key, prefix=${prefix}: no oracle (the answer is what it would be if no other channel existed)`, async () => {
      const listing = await list(KEYS.public, `limit=1&by=id&prefix=${encodeURIComponent(prefix)}`);
      const expected = VISIBLE.public.filter((n) => n.startsWith(prefix));
      assert.deepEqual(listing.names, expected);
      assert.equal(listing.cursors.length, Math.max(0, expected.length - 1));
    });
  }

  it('mixed key, prefix=room: lists room:chat, not room:secret, and no cursor past it', async () => {
    assert.deepEqual(await list(KEYS.mixed, 'limit=1&by=id&prefix=room'), { names: ['room:chat'], cursors: [] });
  });

  it('a cursor naming an invisible channel reveals nothing either', async () => {
    assert.deepEqual(await list(KEYS.public, 'limit=1&by=id&cursor=private%3Aalpha'), {
      names: VISIBLE.public.slice(),
      cursors: ['public:a', 'public:b'],
    });
  });
});
