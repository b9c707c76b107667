/**
 * Resource bounds as options (issue 12): connections in all and per app, channels and presence
 * members in total per node. Each is refused with the code Ably uses for that limit, seen through
 * the official SDK where it has a path, counted in `node.faults.limits`, and the node serves
 * everyone else (and the refused client once there is room again).
 */
import { dataOf } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Ably from 'ably';
import { Action, Err, PresenceAction, type ProtocolMessage } from '@encke/protocol';
import {
  closeAll,
  connect,
  connectionState,
  eventually,
  realtime,
  WS_VARIANTS,
  COMET_VARIANTS,
} from '../helpers/ably.js';
import { RawClient } from '../helpers/raw-ws.js';
import { KEYS, startServer } from '../helpers/server.js';
import { responseError } from '../helpers/json.js';

const basic = (key: string): string => `Basic ${Buffer.from(key).toString('base64')}`;

describe('resource limits', () => {
  for (const variant of [...WS_VARIANTS, COMET_VARIANTS[1]!]) {
    it(`${variant.name}: past maxConnections a client is told DISCONNECTED 50004 and gets in once there is room`, async () => {
      const ts = await startServer({ maxConnections: 2 });
      const [a, b] = [realtime(ts, variant), realtime(ts, variant)];
      const late = realtime(ts, variant, { disconnectedRetryTimeout: 300 });
      try {
        await Promise.all([connect(a), connect(b)]);
        const change = await connectionState(late, 'disconnected');
        assert.equal(change?.reason?.code, Err.overloaded.code);
        assert.equal(ts.server.inspect.connections, 2);
        assert.ok(ts.server.faults.limits.maxConnections >= 1);
        await closeAll(a);
        await connect(late);
      } finally {
        await closeAll(a, b, late);
        await ts.close();
      }
    });
  }

  it("past maxConnectionsPerApp the app's next client fails with 40111; other apps still connect", async () => {
    const ts = await startServer({ maxConnectionsPerApp: 2 });
    const variant = WS_VARIANTS[0]!;
    const clients = [realtime(ts, variant), realtime(ts, variant)];
    const third = realtime(ts, variant);
    const other = realtime(ts, variant, { key: KEYS.other });
    try {
      await Promise.all(clients.map(connect));
      await assert.rejects(connectionState(third, 'connected'), /failed/);
      assert.equal(third.connection.errorReason?.code, Err.connectionLimit.code);
      assert.equal(third.connection.errorReason?.statusCode, 403);
      await connect(other);
      assert.equal(ts.server.faults.limits.maxConnectionsPerApp, 1);
    } finally {
      await closeAll(...clients, third, other);
      await ts.close();
    }
  });

  it('past maxChannels a new channel is refused with 40114 (attach and REST publish); known channels carry on', async () => {
    const ts = await startServer({ maxChannels: 3 });
    const client = realtime(ts, WS_VARIANTS[1]!);
    try {
      await connect(client);
      for (const name of ['c1', 'c2', 'c3']) await client.channels.get(name).attach();
      await assert.rejects(
        client.channels.get('c4').attach(),
        (err: Ably.ErrorInfo) => err.code === Err.channelLimit.code && err.statusCode === 403,
      );
      const res = await fetch(`http://127.0.0.1:${ts.port}/channels/c5/messages`, {
        method: 'POST',
        headers: { authorization: basic(KEYS.full), 'content-type': 'application/json' },
        body: '{"data":"x"}',
      });
      assert.equal(res.status, 403);
      assert.equal((await responseError(res)).code, Err.channelLimit.code);
      const received = new Promise<Ably.Message>(
        (resolve) => void client.channels.get('c1').subscribe((m) => resolve(m)),
      );
      await client.channels.get('c1').publish('still', 'works');
      assert.equal(dataOf(await received), 'works');
      assert.ok(ts.server.faults.limits.maxChannels >= 1);
    } finally {
      await closeAll(client);
      await ts.close();
    }
  });

  it('past presenceMaxMembersTotal an enter on any channel is NACKed 91003', async () => {
    const ts = await startServer({ presenceMaxMembersTotal: 3 });
    const client = await RawClient.connect(ts.port, KEYS.full, 'msgpack', '&clientId=member');
    try {
      let serial = 0;
      const enter = async (channel: string, clientId: string): Promise<number> => {
        client.send({ action: Action.ATTACH, channel });
        await client.next(Action.ATTACHED, 5000, (pm) => pm.channel === channel);
        const msgSerial = serial++;
        client.send({
          action: Action.PRESENCE,
          channel,
          msgSerial,
          presence: [{ action: PresenceAction.ENTER, clientId, data: 'x' }],
        });
        const answer = (): ProtocolMessage | undefined =>
          client.log.find(
            (pm) => (pm.action === Action.ACK || pm.action === Action.NACK) && pm.msgSerial === msgSerial,
          );
        await eventually(() => answer() !== undefined, 5000, `an answer to msgSerial ${msgSerial}`);
        return answer()!.action === Action.ACK ? 0 : (answer()!.error?.code ?? -1);
      };
      assert.equal(await enter('p1', 'member'), 0);
      assert.equal(await enter('p2', 'member'), 0);
      assert.equal(await enter('p3', 'member'), 0);
      assert.equal(await enter('p4', 'member'), Err.presenceMemberLimit.code);
    } finally {
      client.close();
      await ts.close();
    }
  });
});
