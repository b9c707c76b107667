/**
 * Publishes answered in one tick share one ACK `{msgSerial, count: n, res: [n results]}` (RTN7a).
 * Wire level: frames sent in one TCP write are answered by fewer ACK frames than publishes, whose
 * ranges cover every msgSerial once, in order, with one result per message. SDK level: ably-js
 * resolves every publish with its own serial when its ACKs arrive as ranges.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { WS_VARIANTS, closeAll, connect, realtime } from './helpers/ably.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const PUBLISHES = 40;

/** The ws client's TCP socket (ws keeps it private), to send many frames in one write. */
function tcpSocketOf(client: RawClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

describe('ACK batching', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  for (const format of ['json', 'msgpack'] as const) {
    it(`answers publishes sent together with ACK ranges (${format})`, async () => {
      const client = await RawClient.connect(ts.port, KEYS.full, format);
      try {
        const socket = tcpSocketOf(client);
        socket.cork();
        for (let i = 0; i < PUBLISHES; i++)
          client.send({
            action: Action.MESSAGE,
            channel: `ack-${i % 3}`,
            msgSerial: i,
            messages: [{ name: 'n', data: String(i) }],
          });
        socket.uncork();
        const acks: ProtocolMessage[] = [];
        let covered = 0;
        while (covered < PUBLISHES) {
          const ack = await client.next(Action.ACK);
          acks.push(ack);
          assert.equal(ack.msgSerial, covered, 'ranges are contiguous and in order');
          assert.ok(ack.count! >= 1);
          assert.equal(ack.res?.length, ack.count, 'one result per acknowledged publish');
          for (const r of ack.res!) assert.equal(r.serials?.length, 1);
          covered += ack.count!;
        }
        assert.equal(covered, PUBLISHES);
        assert.ok(acks.length < PUBLISHES, `${acks.length} ACK frames for ${PUBLISHES} publishes sent in one write`);
        const serials = acks.flatMap((a) => a.res!.map((r) => r.serials![0]!));
        assert.equal(new Set(serials).size, PUBLISHES);
      } finally {
        client.close();
      }
    });
  }

  for (const variant of WS_VARIANTS) {
    it(`resolves every concurrent SDK publish with its own serial (${variant.name})`, async () => {
      const client = await connect(realtime(ts, variant));
      try {
        // Different channels, so that ably-js cannot bundle them into one ProtocolMessage.
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => client.channels.get(`sdk-ack-${i}`).publish('n', String(i))),
        );
        for (const r of results) assert.equal(r?.serials.length, 1);
        assert.equal(new Set(results.map((r) => r!.serials[0])).size, 30);
      } finally {
        await closeAll(client);
      }
    });
  }
});
