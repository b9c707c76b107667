/**
 * A fan-out frame ends at most four comet streams (issue 19, `cstrm4`). The heartbeat visit finds the
 * streams past their lifetime a slice of connections at a time, and each one written to since its last
 * visit ends right after its next batch: without a bound, every expired stream of a slice on a channel
 * ended with the same fan-out frame (7-20 renewals in one fan-out at S7's churn). Now that frame ends
 * four of them and goes to the others as a plain chunk; they end after the next frames.
 *
 * On a fake clock, over real HTTP, with a 50 ms heartbeat interval (one slice: each visit sees every
 * connection) and streams living 50-100 ms: the ten streams opened together expire at one or two
 * visits, so at least five of them are ending when the next message is published. Three messages go
 * out between two visits (a stream still ending at its next visit would end there instead).
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { FakeClock } from '@encke/server/internal';
import { eventually, rest } from './helpers/ably.js';
import { JSON_TYPE, cometRequest } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

/** Its heartbeat interval is a third of it, the 50 ms minimum: a sweep of one slice. */
const MAX_IDLE_INTERVAL = 150;
const INTERVAL = 50;
/** Streams live 50-100 ms (the second half of the duration). */
const MAX_STREAM = 100;
const STREAMS = 10;
const MAX_ENDS_PER_FRAME = 4;
const PER_VISIT = 3;
const CHANNEL = 'renewal-spread';
const AUTH = `key=${encodeURIComponent(KEYS.full)}`;

/** A streaming comet subscriber that renews its recv as ably-js does, keeping what each stream carried apart. */
class Subscriber {
  /** Per stream, in order: the names of the messages it carried. */
  readonly streams: string[][] = [];
  /** Per ended stream: what the test was doing when its end was read (`phase()`). */
  readonly endedIn: string[] = [];
  connectionId = '';
  attached = false;
  private key = '';
  private running = true;
  private readonly agent = new Agent({ keepAlive: true });

  constructor(
    private readonly port: number,
    private readonly phase: () => string,
  ) {}

  async open(): Promise<void> {
    void this.run(`/comet/connect?${AUTH}&heartbeats=true&v=6`);
    await eventually(() => this.key !== '', 5000, 'CONNECTED');
    const res = await cometRequest(this.port, `/comet/${this.key}/send?${AUTH}`, {
      method: 'POST',
      agent: this.agent,
      body: JSON.stringify([{ action: Action.ATTACH, channel: CHANNEL }]),
      headers: { 'content-type': JSON_TYPE },
    });
    assert.equal(res.status, 204);
    await eventually(() => this.attached, 5000, 'ATTACHED');
  }

  private async run(first: string): Promise<void> {
    let path = first;
    while (this.running) {
      const names: string[] = [];
      this.streams.push(names);
      await cometRequest(this.port, path, {
        agent: this.agent,
        headers: { accept: JSON_TYPE },
        onBatch: (batch) => {
          for (const pm of batch) this.take(pm, names);
        },
      }).catch(() => (this.running = false));
      if (this.running) this.endedIn.push(this.phase());
      path = `/comet/${this.key}/recv?${AUTH}`;
    }
  }

  private take(pm: ProtocolMessage, names: string[]): void {
    if (pm.action === Action.CONNECTED) {
      this.connectionId = pm.connectionId!;
      this.key = pm.connectionDetails!.connectionKey!;
    } else if (pm.action === Action.ATTACHED) this.attached = true;
    else if (pm.action === Action.MESSAGE) for (const m of pm.messages ?? []) names.push(m.name ?? '');
  }

  got(name: string): boolean {
    return this.streams.some((s) => s.includes(name));
  }

  async close(): Promise<void> {
    this.running = false;
    await cometRequest(this.port, `/comet/${this.key}/close?${AUTH}`, { agent: this.agent }).catch(() => undefined);
    this.agent.destroy();
  }
}

describe('comet stream renewals spread over fan-outs (fake clock)', () => {
  let ts: TestServer;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock(Date.now());
    ts = await startServer({ clock, maxIdleInterval: MAX_IDLE_INTERVAL, maxCometStreamDuration: MAX_STREAM });
  });
  after(() => ts.close());

  it(`a fan-out frame ends at most ${MAX_ENDS_PER_FRAME} streams; the others end after the next frames, nothing lost`, async () => {
    let phase = 'open';
    const subs: Subscriber[] = [];
    for (let i = 0; i < STREAMS; i++) subs.push(new Subscriber(ts.port, () => phase));
    await Promise.all(subs.map((s) => s.open()));
    const held = (s: Subscriber): boolean => ts.server.inspect.connection(s.connectionId)?.cometRecvHeld === true;
    const channel = rest(ts, 'json').channels.get(CHANNEL);
    const names: string[] = [];
    try {
      // Messages before every visit (every stream is written to between two visits), past the first
      // streams' lifetimes and the renewed ones' too.
      for (let visit = 0; visit < 6; visit++) {
        for (let i = 0; i < PER_VISIT; i++) {
          const name = `m${visit}.${i}`;
          names.push(name);
          phase = name;
          await channel.publish(name, `${i}`);
          // Delivered everywhere, and every stream it ended renewed, before the next step.
          await eventually(() => subs.every((s) => s.got(name) && held(s)), 5000, `${name} delivered, recvs held`);
        }
        phase = `visit ${visit}`;
        clock.advance(INTERVAL);
        await eventually(() => subs.every(held), 5000, `recvs held after visit ${visit}`);
      }
      // Which message each ended stream ended with (read while that message was being delivered).
      const ends = new Map<string, number>();
      for (const s of subs) for (const p of s.endedIn) ends.set(p, (ends.get(p) ?? 0) + 1);
      const seen = JSON.stringify([...ends]);
      const total = [...ends.values()].reduce((a, b) => a + b, 0);
      assert.ok(total >= STREAMS, `every first stream ended (${seen})`);
      for (const [p, n] of ends) {
        assert.ok(names.includes(p), `streams written to end after a message, not at a visit or open (${seen})`);
        assert.ok(n <= MAX_ENDS_PER_FRAME, `${n} streams ended with ${p} (${seen})`);
      }
      // Nothing lost or reordered across the renewals.
      for (const s of subs) assert.deepEqual(s.streams.flat(), names);
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });
});
