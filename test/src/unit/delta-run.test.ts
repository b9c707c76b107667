/**
 * DeltaRun: deltas of a channel's messages, encoded once per message and shared by every
 * subscriber, decoded here the way ably-js does (RTL19: the base is the wire payload before any
 * step but the outermost base64; RTL20: `extras.delta.from` must be the previous message's id).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vcdiffDecoder from '@ably/vcdiff-decoder';
import type { Message } from '@encke/protocol';
import { DeltaRun, type ChainEnd } from '@encke/server/internal';

const utf8 = new TextEncoder();

/** A subscriber as ably-js is one: the last message id and base payload, decoding each message in turn. */
class SdkChannel {
  lastId: string | undefined;
  base: Uint8Array | undefined;
  deltas = 0;

  receive(m: Message): Uint8Array | string | undefined {
    const steps = m.encoding ? m.encoding.split('/') : [];
    let data: Uint8Array | string | undefined = m.data;
    if (steps[steps.length - 1] === 'vcdiff') {
      const from = (m.extras?.delta as { from?: string } | undefined)?.from;
      assert.equal(from, this.lastId, `delta for ${m.id} from ${from}, but the last message was ${this.lastId}`);
      assert.ok(this.base, 'a base payload');
      data = vcdiffDecoder.decode(m.data as Uint8Array, this.base);
      this.deltas++;
      steps.pop();
      this.base = data;
      if (steps[steps.length - 1] === 'utf-8') {
        steps.pop();
        data = new TextDecoder().decode(data);
      }
    } else {
      this.base = typeof data === 'string' ? utf8.encode(data) : data;
    }
    this.lastId = m.id;
    assert.equal(steps.join('/'), (m.extras?.delta ? undefined : m.encoding) ?? steps.join('/'));
    return data;
  }
}

function messages(from: number, count: number): Message[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const doc = { symbol: 'ACME', price: 100 + i, volume: 5000 + i * 3, note: 'x'.repeat(200) };
    if (i % 7 === 3) return { id: `m${i}`, name: 'bin', data: utf8.encode(JSON.stringify(doc)) };
    if (i % 5 === 4) return { id: `m${i}`, name: 'none' };
    return { id: `m${i}`, name: 'doc', data: JSON.stringify(doc), encoding: 'json' };
  });
}

function original(m: Message): Uint8Array | string | undefined {
  return m.data;
}

describe('delta runs', () => {
  it('a continuous subscriber rebuilds every message over several runs; a late one starts whole', () => {
    const continuous = new SdkChannel();
    const late = new SdkChannel();
    let chain: ChainEnd = { id: undefined, payload: undefined };
    let encoded = 0;
    for (let run = 0; run < 6; run++) {
      const batch = messages(run * 5, 5);
      const r = new DeltaRun(batch, chain);
      const forContinuous = r.all(run > 0);
      const forLate = r.all(false);
      // Same instances: the encoding is shared, not redone per subscriber.
      assert.equal(r.all(true)[1], forContinuous[1]);
      for (const [i, m] of batch.entries()) {
        assert.deepEqual(continuous.receive(forContinuous[i]!), original(m));
        if (run >= 3) assert.deepEqual(late.receive(run === 3 ? forLate[i]! : r.all(true)[i]!), original(m));
      }
      encoded += r.encoded;
      chain = r.end();
    }
    assert.ok(continuous.deltas >= 15, `deltas sent: ${continuous.deltas}`);
    assert.equal(encoded, continuous.deltas, 'each delta encoded once');
  });

  it('a subscriber that skips messages (echo off, filters) gets the one after a gap whole', () => {
    const batch = messages(100, 8);
    const sub = new SdkChannel();
    const r = new DeltaRun(batch, { id: undefined, payload: undefined });
    const picked = [0, 1, 3, 4, 5, 7];
    const out = r.select(picked, false);
    for (const [k, i] of picked.entries()) assert.deepEqual(sub.receive(out[k]!), original(batch[i]!));
    assert.equal(out[2]!.extras?.delta, undefined, 'after a gap: whole');
  });

  it('sends a message whole when its delta would not be smaller', () => {
    const a: Message = { id: 'a', data: 'short' };
    const b: Message = { id: 'b', data: 'other' };
    const r = new DeltaRun([a, b], { id: undefined, payload: undefined });
    assert.deepEqual(r.all(false), [a, b]);
    assert.equal(r.encoded, 0);
  });

  it('marks deltas with extras.delta and the encoding ably-js decodes', () => {
    const base = {
      id: 'p',
      data: JSON.stringify({ a: 'y'.repeat(100), n: 1 }),
      encoding: 'json',
      extras: { headers: { h: 'v' } },
    };
    const next = { ...base, id: 'q', data: JSON.stringify({ a: 'y'.repeat(100), n: 2 }) };
    const [first, second] = new DeltaRun([base, next], { id: undefined, payload: undefined }).all(false);
    assert.equal(first, base);
    assert.equal(second!.encoding, 'json/utf-8/vcdiff');
    assert.deepEqual(second!.extras, { headers: { h: 'v' }, delta: { from: 'p', format: 'vcdiff' } });
    assert.ok(second!.data instanceof Uint8Array);
  });
});
