/** Presence on the wire, at the protocol level: flags, SYNC paging and cursors, client SYNC requests. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Flag, PresenceAction, type ProtocolMessage } from '@encke/protocol';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

describe('presence on the wire', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ presenceSyncPageSize: 2 });
  });
  after(async () => {
    await ts.close();
  });

  async function syncPages(client: RawClient): Promise<ProtocolMessage[]> {
    const pages: ProtocolMessage[] = [];
    for (;;) {
      const page = await client.next(Action.SYNC);
      pages.push(page);
      if (page.channelSerial!.endsWith(':')) return pages;
    }
  }

  it('no HAS_PRESENCE on an empty channel; HAS_PRESENCE and paged SYNC once members exist', async () => {
    const owner = await RawClient.connect(ts.port, KEYS.full);
    owner.send({ action: Action.ATTACH, channel: 'wire' });
    const empty = await owner.next(Action.ATTACHED);
    assert.equal((empty.flags ?? 0) & Flag.HAS_PRESENCE, 0);
    owner.send({
      action: Action.PRESENCE,
      channel: 'wire',
      msgSerial: 0,
      presence: ['a', 'b', 'c', 'd', 'e'].map((clientId) => ({
        action: PresenceAction.ENTER,
        clientId,
        data: `d-${clientId}`,
      })),
    });
    const ack = await owner.next(Action.ACK);
    assert.deepEqual(ack.res, [{ serials: [null, null, null, null, null] }]);

    const late = await RawClient.connect(ts.port, KEYS.full);
    late.send({ action: Action.ATTACH, channel: 'wire' });
    const attached = await late.next(Action.ATTACHED);
    assert.equal((attached.flags ?? 0) & Flag.HAS_PRESENCE, Flag.HAS_PRESENCE);
    const pages = await syncPages(late);
    assert.equal(pages.length, 3);
    const syncId = pages[0]!.channelSerial!.split(':')[0]!;
    assert.match(syncId, /^[\w-]+$/);
    assert.deepEqual(
      pages.map((p) => p.channelSerial),
      [`${syncId}:1`, `${syncId}:2`, `${syncId}:`],
    );
    const members = pages.flatMap((p) => p.presence ?? []);
    assert.deepEqual(members.map((m) => m.clientId).sort(), ['a', 'b', 'c', 'd', 'e']);
    for (const m of members) {
      assert.equal(m.action, PresenceAction.PRESENT);
      assert.equal(m.connectionId, owner.log[0]!.connectionId);
      assert.ok(m.id?.startsWith(`${m.connectionId}:0:`));
      assert.equal(m.data, `d-${m.clientId}`);
    }

    // A client-requested SYNC gets the whole set again.
    late.send({ action: Action.SYNC, channel: 'wire' });
    assert.equal((await syncPages(late)).flatMap((p) => p.presence ?? []).length, 5);

    // Without presence_subscribe, no HAS_PRESENCE (the SDK would wait for a SYNC it cannot get).
    const publisherOnly = await RawClient.connect(ts.port, KEYS.full);
    publisherOnly.send({ action: Action.ATTACH, channel: 'wire', params: { modes: 'publish' } });
    assert.equal(((await publisherOnly.next(Action.ATTACHED)).flags ?? 0) & Flag.HAS_PRESENCE, 0);

    owner.close();
    const leaves = await late.next(Action.PRESENCE, 5000, (pm) => pm.presence?.[0]?.action === PresenceAction.LEAVE);
    assert.equal(leaves.presence?.length, 5);
    assert.ok(leaves.channelSerial, 'presence events carry a channelSerial');
    late.close();
    publisherOnly.close();
  });
});
