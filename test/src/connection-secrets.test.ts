/**
 * Connection ids and their secrets are made a batch at a time (session/connection-key.ts: one cipher call
 * for 64 ids, bench S3), and a secret is derived again from its id alone when a key comes back (a resume,
 * a comet request). Both must give the same secret for every id, in every position of a batch and across
 * batches: checked on the keys real CONNECTEDs handed out, and by resuming connections made earlier.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action } from '@encke/protocol';
import { derivedConnectionSecret } from '@encke/server/internal';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

/** More than one batch of ids (64), so that a batch's last and the next one's first are both among them. */
const OPENS = 140;
const KEY_SHAPE = /^([A-Za-z0-9_-]{12})!([A-Za-z0-9]{16})([0-9a-z]+)$/;

interface Opened {
  client: RawClient;
  connectionId: string;
  connectionKey: string;
}

async function open(port: number, extra = ''): Promise<Opened> {
  const client = await RawClient.open(port, `key=${encodeURIComponent(KEYS.full)}&format=json&v=6${extra}`);
  const connected = await client.next(Action.CONNECTED);
  assert.equal(connected.error, undefined);
  const connectionId = connected.connectionId;
  const connectionKey = connected.connectionDetails?.connectionKey;
  assert.ok(connectionId !== undefined && connectionKey !== undefined, 'CONNECTED has an id and a key');
  return { client, connectionId, connectionKey };
}

describe('connection secrets made in batches', () => {
  const suite = serverPerSuite();

  it('every CONNECTED key carries the secret its id derives, across batches', async () => {
    const opened: Opened[] = [];
    for (let i = 0; i < OPENS; i++) {
      const o = await open(suite.ts.port);
      suite.own(o.client);
      opened.push(o);
    }
    const ids = new Set<string>();
    for (const { connectionId, connectionKey } of opened) {
      const m = KEY_SHAPE.exec(connectionKey);
      assert.ok(m, `key ${connectionKey} has the key's shape`);
      assert.equal(m[1], connectionId);
      // Derived again from the id alone (not the one kept for the id handed out last): the same secret.
      assert.equal(m[2], derivedConnectionSecret(connectionId), `the secret of ${connectionId}`);
      ids.add(connectionId);
    }
    assert.equal(ids.size, opened.length, 'no id twice');
  });

  it('connections made before others (and before the next batch) resume with their keys', async () => {
    const opened: Opened[] = [];
    for (let i = 0; i < 70; i++) opened.push(await open(suite.ts.port));
    for (const o of opened) suite.own(o.client);
    for (const i of [0, 1, 31, 63, 64, 69]) {
      const { client, connectionId, connectionKey } = opened[i]!;
      client.drop();
      const resumed = await RawClient.open(
        suite.ts.port,
        `key=${encodeURIComponent(KEYS.full)}&format=json&v=6&resume=${encodeURIComponent(connectionKey)}`,
      );
      suite.own(resumed);
      const connected = await resumed.next(Action.CONNECTED);
      assert.equal(connected.error, undefined, `connection ${i} resumed without an error`);
      assert.equal(connected.connectionId, connectionId, `connection ${i} resumed, not a new one`);
    }
  });
});
