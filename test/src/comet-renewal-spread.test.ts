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
import { describe, it } from 'node:test';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { FakeClock } from '@encke/server/internal';
import { eventually, rest } from './helpers/ably.js';
import { RenewingStream } from './helpers/renewing-stream.js';
import { serverPerSuite } from './helpers/suite.js';

/** Its heartbeat interval is a third of it, the 50 ms minimum: a sweep of one slice. */
const MAX_IDLE_INTERVAL = 150;
const INTERVAL = 50;
/** Streams live 50-100 ms (the second half of the duration). */
const MAX_STREAM = 100;
const STREAMS = 10;
const MAX_ENDS_PER_FRAME = 4;
const PER_VISIT = 3;
const CHANNEL = 'renewal-spread';

/** A streaming subscriber on CHANNEL that notes, per ended stream, what the test was doing when its end was read. */
class Subscriber extends RenewingStream {
  readonly endedIn: string[] = [];

  constructor(port: number, phase: () => string) {
    super(port, () => this.endedIn.push(phase()));
  }

  override async open(): Promise<void> {
    await super.open();
    await this.send([{ action: Action.ATTACH, channel: CHANNEL }]);
    await eventually(() => this.carried((pm) => pm.action === Action.ATTACHED), 5000, 'ATTACHED');
  }

  /** Per stream, in order: the names of the messages it carried. */
  names(): string[][] {
    return this.streams.map((s) => s.flatMap((pm) => (pm.action === Action.MESSAGE ? namesIn(pm) : [])));
  }

  got(name: string): boolean {
    return this.carried((pm) => pm.action === Action.MESSAGE && namesIn(pm).includes(name));
  }
}

function namesIn(pm: ProtocolMessage): string[] {
  return (pm.messages ?? []).map((m) => m.name ?? '');
}

describe('comet stream renewals spread over fan-outs (fake clock)', () => {
  const clock = new FakeClock(Date.now());
  const suite = serverPerSuite({ clock, maxIdleInterval: MAX_IDLE_INTERVAL, maxCometStreamDuration: MAX_STREAM });

  it(`a fan-out frame ends at most ${MAX_ENDS_PER_FRAME} streams; the others end after the next frames, nothing lost`, async () => {
    const ts = suite.ts;
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
      for (const s of subs) assert.deepEqual(s.names().flat(), names);
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });
});
