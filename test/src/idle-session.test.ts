/**
 * An idle attached WebSocket connection as the server keeps it, second pass (issue 19, bench S3),
 * end to end over JSON and msgpack: after CONNECTED and ATTACHED the session keeps no object for its
 * rare state, its attachment sits in a field of the session (no Attachments object, no Map), the
 * attachment and its local channel keep no object for their rare parts, and the transport holds no
 * early-frame buffer. What those objects carry comes back when it is used: a publish makes the
 * exactly-once ledger (a re-sent msgSerial gets the same ACK and is not published twice), the
 * channel's traffic state counts it, and a dropped connection resumes with a key of its derived
 * secret (a later generation of the same key) while a forged one does not. The transport is the
 * `ws` WebSocket itself (one object per connection, not two); when `ws` terminates it on its own
 * (as it does a peer that floods pings), the session still learns that its transport is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err, type Format } from '@encke/protocol';
import WebSocket from 'ws';
import { Attachment, Session } from '@encke/server/internal';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { recordSessions } from './helpers/session-spy.js';
import { field } from './helpers/field.js';

for (const format of ['json', 'msgpack'] as Format[]) {
  describe(`an idle attached connection keeps no rare state (${format})`, () => {
    let ts: TestServer;
    /** Every session that flushed, by connection id (Session.flush, patched for the test). */
    const sessions = new Map<string, Session>();
    let restore = (): void => {};
    before(async () => {
      restore = recordSessions(sessions);
      ts = await startServer();
    });
    after(async () => {
      restore();
      await ts.close();
    });

    const query = (extra = ''): string => `key=${encodeURIComponent(KEYS.full)}&format=${format}&v=6${extra}`;

    it('keeps its attachment in a field and no extra objects; a publish brings back the ledger and the traffic counts', async () => {
      const client = await RawClient.open(ts.port, query(), format);
      const connected = await client.next(Action.CONNECTED);
      const channel = `idle-${format}`;
      client.send({ action: Action.ATTACH, channel });
      await client.next(Action.ATTACHED, 5000, (pm) => pm.channel === channel);
      const session = sessions.get(connected.connectionId!);
      assert.ok(session, 'the session flushed CONNECTED');
      assert.equal(field(session, 'extras'), null, 'no rare state');
      const att = session.attached;
      assert.ok(att instanceof Attachment, 'the one attachment in the field, no Map');
      assert.equal(att.name, channel);
      assert.equal(field(att, 'extras'), null);
      assert.equal(field(att.channel, 'traffic'), null, 'the channel has had no event');
      assert.equal(field(session.transport!, 'peer'), session, 'no early frames held: the session takes the frames');
      assert.equal(session.transport!.format, format);
      assert.ok(session.transport instanceof WebSocket, 'the transport is the WebSocket itself');
      assert.equal(session.appId, session.app.id);

      const publish = { action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ data: 'once' }] };
      client.send(publish);
      await client.next(Action.ACK, 5000, (pm) => pm.msgSerial === 0);
      await client.next(Action.MESSAGE, 5000, (pm) => pm.channel === channel);
      const extras: unknown = field(session, 'extras');
      assert.ok(extras !== null, 'the ledger, made by the publish');
      assert.equal(session.msgSerialHigh, 0);
      assert.equal(att.channel.itemsIn, 1);
      // Re-sent: the same answer, not published again.
      client.send(publish);
      await client.next(Action.ACK, 5000, (pm) => pm.msgSerial === 0);
      client.send({ action: Action.HEARTBEAT, id: 'after' });
      await client.next(Action.HEARTBEAT, 5000, (pm) => pm.id === 'after');
      assert.equal(client.log.filter((pm) => pm.action === Action.MESSAGE).length, 1, 'published once');
      client.close();
    });

    it('learns that its transport is gone when the WebSocket is terminated under it, and stays resumable', async () => {
      const client = await RawClient.open(ts.port, query(), format);
      const connected = await client.next(Action.CONNECTED);
      const id = connected.connectionId!;
      // ATTACHED goes out through the session's flush (CONNECTED may be written at the upgrade).
      client.send({ action: Action.ATTACH, channel: `gone-${format}` });
      await client.next(Action.ATTACHED);
      const session = sessions.get(id)!;
      // What ws does to a peer that floods pings: terminate() on the WebSocket, nothing else.
      session.transport!.terminate();
      // The socket's 'close' comes on a later turn of the event loop.
      for (let i = 0; i < 100 && ts.server.inspect.connection(id)?.state !== 'disconnected'; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(ts.server.inspect.connection(id)?.state, 'disconnected');
      assert.equal(session.transport, null);
      const resumed = await RawClient.open(
        ts.port,
        query(`&resume=${encodeURIComponent(connected.connectionDetails!.connectionKey)}`),
        format,
      );
      assert.equal((await resumed.next(Action.CONNECTED)).connectionId, id);
      resumed.close();
    });

    it('resumes with its derived secret, a later generation of the same key; a forged secret does not', async () => {
      const first = await RawClient.open(ts.port, query(), format);
      const connected = await first.next(Action.CONNECTED);
      const id = connected.connectionId!;
      const key = connected.connectionDetails!.connectionKey;
      first.drop();
      const resumed = await RawClient.open(ts.port, query(`&resume=${encodeURIComponent(key)}`), format);
      const again = await resumed.next(Action.CONNECTED);
      assert.equal(again.connectionId, id);
      assert.equal(again.error, undefined);
      const newKey = again.connectionDetails!.connectionKey;
      assert.notEqual(newKey, key, 'a new key on every CONNECTED');
      const secretOf = (k: string): string => k.slice(k.indexOf('!') + 1, k.indexOf('!') + 17);
      assert.equal(secretOf(newKey), secretOf(key), 'the same secret, another generation');
      resumed.drop();
      const forgedSecret = [...secretOf(key)].map((c) => (c === 'A' ? 'B' : 'A')).join('');
      const forged = key.replace(secretOf(key), forgedSecret);
      const intruder = await RawClient.open(ts.port, query(`&resume=${encodeURIComponent(forged)}`), format);
      const refused = await intruder.next(Action.CONNECTED);
      assert.notEqual(refused.connectionId, id);
      assert.equal(refused.error?.code, Err.connectionExpired.code);
      intruder.close();
    });
  });
}
