/**
 * When a WebSocket's CONNECTED is written (issue 19, open rate; Transport.connectsAlone): a connection
 * opened within its upgrade with a configured key, the client having sent nothing with its upgrade
 * request, can get no other frame in that tick, so its CONNECTED is written at once (with the 101
 * response, in one write) instead of waiting for the end of the tick. A client that sent a frame
 * with its upgrade request (read and answered later in the same tick), and an open that waits for
 * its credentials (a token), keep the end-of-tick flush: CONNECTED and the replies of that tick in
 * one write, CONNECTED first. Observed on the server at the transport's writes, real clients.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { Action, encodeProtocolMessage, type Format, type ProtocolMessage } from '@encke/protocol';
import { fetchToken } from './helpers/auth.js';
import { RawClient } from './helpers/raw-ws.js';
import { recordWrites, type WriteCall } from './helpers/write-spy.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

/** A client frame (RFC 6455: masked), text for JSON, binary for msgpack. */
function clientFrame(pm: ProtocolMessage, format: Format): Buffer {
  const payload = Buffer.from(encodeProtocolMessage(pm, format));
  assert.ok(payload.length < 126);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([format === 'json' ? 0x81 : 0x82, 0x80 | payload.length]), mask, masked]);
}

/** An upgrade request with `frame` right behind it, in one TCP write (the server gets it as the upgrade's `head`). */
function upgradeWithFrame(port: number, query: string, frame: Buffer): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const request =
    `GET /?${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  socket.write(Buffer.concat([Buffer.from(request), frame]));
  return socket;
}

async function until(done: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const actionsOf = (call: WriteCall | undefined): number[] => call?.frames.map((pm) => pm.action) ?? [];

/** The writes to the connection whose CONNECTED was recorded (others, closing from earlier tests, are left out). */
function writesOfNew(calls: readonly WriteCall[]): WriteCall[] {
  const opened = calls.find((c) => c.frames.some((pm) => pm.action === Action.CONNECTED));
  return calls.filter((c) => c.transport === opened?.transport);
}

describe('when CONNECTED is written', () => {
  let ts: TestServer;
  let rec: ReturnType<typeof recordWrites> | undefined;
  const closers: (() => void)[] = [];

  before(async () => {
    ts = await startServer();
  });
  afterEach(() => {
    rec?.stop();
    rec = undefined;
    for (const close of closers.splice(0)) close();
  });
  after(async () => {
    await ts.close();
  });

  for (const format of ['json', 'msgpack'] as const) {
    it(`a key and nothing sent with the upgrade: CONNECTED is written at once, alone (${format})`, async () => {
      rec = recordWrites();
      const c = await RawClient.connect(ts.port, KEYS.full, format);
      closers.push(() => c.close());
      // The connection works on as usual: its ATTACHED goes through the tick's flush.
      c.send({ action: Action.ATTACH, channel: `alone-${format}` });
      await c.next(Action.ATTACHED);
      const writes = writesOfNew(rec.calls);
      assert.equal(writes.length, 2);
      assert.deepEqual(actionsOf(writes[0]), [Action.CONNECTED]);
      assert.equal(writes[0]!.alone, true, 'written within the upgrade, not by the end-of-tick flush');
      assert.deepEqual(actionsOf(writes[1]), [Action.ATTACHED]);
      assert.equal(writes[1]!.alone, false);
    });

    it(`a frame sent with the upgrade request: CONNECTED and its reply in one write, CONNECTED first (${format})`, async () => {
      rec = recordWrites();
      const query = `key=${encodeURIComponent(KEYS.full)}&format=${format}&heartbeats=true&v=6`;
      const socket = upgradeWithFrame(ts.port, query, clientFrame({ action: Action.ATTACH, channel: 'piped' }, format));
      closers.push(() => socket.destroy());
      await until(() => rec!.calls.some((c) => c.frames.some((pm) => pm.action === Action.ATTACHED)), 'ATTACHED');
      const writes = writesOfNew(rec.calls);
      assert.equal(writes.length, 1, 'one write in the tick');
      assert.deepEqual(actionsOf(writes[0]), [Action.CONNECTED, Action.ATTACHED]);
      assert.equal(writes[0]!.alone, false);
    });

    it(`a token (verified asynchronously): CONNECTED waits for the tick's flush (${format})`, async () => {
      const token = await fetchToken(ts.port, KEYS.full, { clientId: 'tok' });
      rec = recordWrites();
      const c = await RawClient.open(ts.port, `access_token=${encodeURIComponent(token)}&format=${format}&v=6`, format);
      closers.push(() => c.close());
      await c.next(Action.CONNECTED);
      const writes = writesOfNew(rec.calls);
      assert.deepEqual(actionsOf(writes[0]), [Action.CONNECTED]);
      assert.equal(writes[0]!.alone, false);
    });
  }
});
