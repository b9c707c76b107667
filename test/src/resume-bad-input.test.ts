/**
 * Resume and channel continuity with bad input: forged, truncated and foreign connection keys,
 * concurrent resumes, and channelSerials from elsewhere. Each gets the documented error or a clean
 * "not resumed", never another connection's data, and the real connection stays resumable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err, Flag, type ProtocolMessage } from '@encke/protocol';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

function query(key: string, extra = ''): string {
  return `key=${encodeURIComponent(key)}&format=json&heartbeats=true&v=6${extra}`;
}

async function connectResuming(
  port: number,
  key: string,
  connectionKey: string,
): Promise<{ client: RawClient; connected: ProtocolMessage }> {
  const client = await RawClient.open(port, query(key, `&resume=${encodeURIComponent(connectionKey)}`));
  return { client, connected: await client.next(Action.CONNECTED) };
}

describe('resume with bad connection keys', () => {
  let ts: TestServer;
  let victim: RawClient;
  let victimId: string;
  let victimKey: string;

  before(async () => {
    ts = await startServer({ channelLogMaxCount: 3 });
    victim = await RawClient.open(ts.port, query(KEYS.full));
    const connected = await victim.next(Action.CONNECTED);
    victimId = connected.connectionId!;
    victimKey = connected.connectionDetails!.connectionKey;
    victim.send({ action: Action.ATTACH, channel: 'private' });
    await victim.next(Action.ATTACHED);
    victim.drop();
  });
  after(async () => {
    await ts.close();
  });

  const malformed: [string, () => string][] = [
    ['the ably-js test fake key', () => '_____!ablyjs_test_fake-key____'],
    ['garbage', () => 'not-a-key'],
    ['a truncated key', () => victimKey.slice(0, victimKey.indexOf('!') + 8)],
    ['a key with a path in it', () => '../../etc/passwd'],
  ];
  for (const [name, key] of malformed) {
    it(`${name} → CONNECTED with a new id and 80018`, async () => {
      const { client, connected } = await connectResuming(ts.port, KEYS.full, key());
      assert.notEqual(connected.connectionId, victimId);
      assert.equal(connected.error?.code, Err.invalidConnectionKey.code);
      client.close();
    });
  }

  const refused: [string, string, () => string, number][] = [
    [
      'a forged key (right connection, wrong secret)',
      KEYS.full,
      () => victimKey.replace(/![A-Za-z0-9]{4}/, '!ZZZZ'),
      Err.connectionExpired.code,
    ],
    ["another app's credentials", KEYS.other, () => victimKey, Err.connectionExpired.code],
    ['an unknown connection', KEYS.full, () => 'AAAAAAAAAAAA!AAAAAAAAAAAAAAAA1', Err.connectionExpired.code],
    ['a different clientId', KEYS.full, () => victimKey, Err.incompatibleRecoverAuth.code],
  ];
  for (const [name, credentials, key, code] of refused) {
    it(`${name} → CONNECTED with a new id and ${code}, nothing of the original leaks`, async () => {
      const extra = name.includes('clientId')
        ? `&clientId=intruder&resume=${encodeURIComponent(key())}`
        : `&resume=${encodeURIComponent(key())}`;
      const client = await RawClient.open(ts.port, query(credentials, extra));
      const connected = await client.next(Action.CONNECTED);
      assert.notEqual(connected.connectionId, victimId);
      assert.equal(connected.error?.code, code);
      client.close();
    });
  }

  it('the original connection is still resumable afterwards, with its own key', async () => {
    const { client, connected } = await connectResuming(ts.port, KEYS.full, victimKey);
    assert.equal(connected.connectionId, victimId);
    assert.equal(connected.error, undefined);
    assert.notEqual(connected.connectionDetails?.connectionKey, victimKey, 'a new key on every CONNECTED');
    victimKey = connected.connectionDetails!.connectionKey;
    client.drop();
  });

  it('DISCONNECT from the client ends that transport and keeps the connection for a resume', async () => {
    const { client, connected } = await connectResuming(ts.port, KEYS.full, victimKey);
    assert.equal(connected.connectionId, victimId);
    victimKey = connected.connectionDetails!.connectionKey;
    client.send({ action: Action.DISCONNECT });
    await client.waitClosed();
    const again = await connectResuming(ts.port, KEYS.full, victimKey);
    assert.equal(again.connected.connectionId, victimId);
    assert.equal(again.connected.error, undefined);
    victimKey = again.connected.connectionDetails!.connectionKey;
    again.client.drop();
  });

  it('two concurrent resumes of one key: the newer wins, the older is told 80016, no data crosses', async () => {
    const [a, b] = await Promise.all([
      RawClient.open(ts.port, query(KEYS.full, `&resume=${encodeURIComponent(victimKey)}`)),
      RawClient.open(ts.port, query(KEYS.full, `&resume=${encodeURIComponent(victimKey)}`)),
    ]);
    const [ca, cb] = await Promise.all([a.next(Action.CONNECTED), b.next(Action.CONNECTED)]);
    assert.equal(ca.connectionId, victimId);
    assert.equal(cb.connectionId, victimId);
    // Whichever resumed first is superseded by the other.
    await Promise.race([a.waitClosed(), b.waitClosed()]);
    const [loser, winner] = a.closed ? [a, b] : [b, a];
    const superseded = loser.log.find((pm) => pm.action === Action.DISCONNECTED);
    assert.equal(superseded?.error?.code, Err.superseded.code);
    winner.send({ action: Action.ATTACH, channel: 'after-race' });
    await winner.next(Action.ATTACHED);
    winner.send({ action: Action.MESSAGE, channel: 'after-race', msgSerial: 100, messages: [{ data: 'ok' }] });
    assert.equal((await winner.next(Action.ACK)).msgSerial, 100);
    assert.equal((await winner.next(Action.MESSAGE)).messages?.[0]?.data, 'ok');
    winner.close();
  });
});

describe('attach with bad channelSerials', () => {
  let ts: TestServer;
  let client: RawClient;
  let serialA: string;

  before(async () => {
    ts = await startServer({ channelLogMaxCount: 3 });
    client = await RawClient.connect(ts.port, KEYS.full);
    client.send({ action: Action.ATTACH, channel: 'a' });
    await client.next(Action.ATTACHED);
    client.send({ action: Action.MESSAGE, channel: 'a', msgSerial: 0, messages: [{ data: 'x' }] });
    serialA = (await client.next(Action.MESSAGE)).channelSerial!;
    client.send({ action: Action.ATTACH, channel: 'b' });
    await client.next(Action.ATTACHED);
  });
  after(async () => {
    client.close();
    await ts.close();
  });

  async function reattach(channel: string, channelSerial: string): Promise<ProtocolMessage> {
    client.send({ action: Action.DETACH, channel });
    await client.next(Action.DETACHED);
    client.send({ action: Action.ATTACH, channel, channelSerial });
    return client.next(Action.ATTACHED);
  }

  const cases: [string, string, () => string, number][] = [
    ["another channel's serial", 'b', () => serialA, Err.channelNoMatchingEpoch.code],
    [
      'a serial from the future',
      'a',
      () =>
        serialA.replace(/-(\w+)$/, (_, seq: string) => `-${(parseInt(seq, 36) + 1000).toString(36).padStart(11, '0')}`),
      Err.channelNoMatchingEpoch.code,
    ],
    ['garbage', 'a', () => 'definitely-not-a-serial', Err.channelNoMatchingEpoch.code],
    ['an empty string', 'a', () => '', Err.channelNoMatchingEpoch.code],
  ];
  for (const [name, channel, serial, code] of cases) {
    it(`${name} → ATTACHED without RESUMED, error ${code}`, async () => {
      const attached = await reattach(channel, serial());
      assert.equal((attached.flags ?? 0) & Flag.RESUMED, 0);
      assert.equal(attached.error?.code, code);
    });
  }

  it('a serial the bounded log no longer reaches → ATTACHED without RESUMED, 90003', async () => {
    for (let i = 1; i <= 5; i++)
      client.send({ action: Action.MESSAGE, channel: 'a', msgSerial: i, messages: [{ data: String(i) }] });
    // Publishes answered in one tick may share one ACK range (count > 1).
    for (let acked = 0; acked < 5;) acked += (await client.next(Action.ACK)).count ?? 1;
    const attached = await reattach('a', serialA);
    assert.equal((attached.flags ?? 0) & Flag.RESUMED, 0);
    assert.equal(attached.error?.code, Err.channelMessagesExpired.code);
  });

  it('a serial the log covers → ATTACHED with RESUMED, then exactly the missed messages', async () => {
    client.send({ action: Action.MESSAGE, channel: 'a', msgSerial: 10, messages: [{ data: 'p' }] });
    await client.next(Action.ACK);
    const pSerial = (await client.next(Action.MESSAGE, 5000, (pm) => pm.messages?.[0]?.data === 'p')).channelSerial!;
    client.send({ action: Action.MESSAGE, channel: 'a', msgSerial: 11, messages: [{ data: 'q' }] });
    await client.next(Action.ACK);
    await client.next(Action.MESSAGE, 5000, (pm) => pm.messages?.[0]?.data === 'q');
    const attached = await reattach('a', pSerial);
    assert.equal((attached.flags ?? 0) & Flag.RESUMED, Flag.RESUMED);
    assert.equal((attached.flags ?? 0) & Flag.HAS_BACKLOG, Flag.HAS_BACKLOG);
    assert.equal(attached.channelSerial, pSerial);
    const replayed = await client.next(Action.MESSAGE);
    assert.deepEqual(
      replayed.messages?.map((m) => m.data),
      ['q'],
    );
  });
});
