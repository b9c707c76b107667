/**
 * Delta compression of a channel's messages (Ably docs, channels/options/deltas; RTL18–RTL21).
 *
 * A subscriber that attached with `delta: 'vcdiff'` keeps the payload of the last message it
 * received as its base; a delta message carries `data` = VCDIFF(base → payload), `encoding` = the
 * message's own encoding + `utf-8` (for a string payload) + `vcdiff`, and `extras.delta =
 * {from: <previous message id>, format: 'vcdiff'}`. The base is the payload in its wire form before
 * any decoding other than the outermost base64 (RTL19a/b): the UTF-8 bytes of a string payload, or
 * the bytes of a binary one.
 *
 * Each message's delta against the message before it on the channel is encoded at most once, in a
 * `DeltaRun` shared by every subscriber of the channel: subscribers whose base is the message
 * before the run get deltas from the first message on, subscribers without a base (just attached,
 * or re-attached after a decode failure) get the first message whole and deltas after it. A message
 * whose delta is not smaller than its payload goes whole, which the SDK also accepts.
 */
import type { Data, Message } from '@encke/protocol';
import { MAX_VCDIFF_INPUT, vcdiffEncode } from './vcdiff.js';

export const DELTA_FORMAT = 'vcdiff';

const utf8 = new TextEncoder();

/** The payload as the SDK stores it for the next delta: UTF-8 of a string, or the bytes. */
export function payloadBytes(data: Data | undefined): Uint8Array | undefined {
  if (data === undefined) return undefined;
  return typeof data === 'string' ? utf8.encode(data) : data;
}

/** `m` as a delta from `fromId` whose payload is `base`; undefined when the whole message is smaller. */
export function deltaForm(
  m: Message,
  payload: Uint8Array | undefined,
  fromId: string | undefined,
  base: Uint8Array | undefined,
): Message | undefined {
  if (payload === undefined || base === undefined || fromId === undefined) return undefined;
  if (payload.length > MAX_VCDIFF_INPUT || base.length > MAX_VCDIFF_INPUT) return undefined;
  const delta = vcdiffEncode(base, payload);
  if (delta.length >= payload.length) return undefined;
  const steps = [m.encoding, typeof m.data === 'string' ? 'utf-8' : undefined, DELTA_FORMAT].filter(
    (s) => s !== undefined && s !== '',
  );
  return {
    ...m,
    data: delta,
    encoding: steps.join('/'),
    extras: { ...(m.extras ?? {}), delta: { from: fromId, format: DELTA_FORMAT } },
  };
}

/** Where a channel's delta chain stands: the last message's id and payload. */
export interface ChainEnd {
  id: string | undefined;
  payload: Uint8Array | undefined;
}

export class DeltaRun {
  private readonly payloads: (Uint8Array | undefined)[];
  /** deltas[i]: messages[i] against messages[i-1] (against the chain start for i = 0); null = send whole. */
  private readonly deltas: (Message | null | undefined)[];
  /** How many messages went out as deltas (each counted once, however many subscribers share it). */
  encoded = 0;

  constructor(
    readonly messages: readonly Message[],
    private readonly start: ChainEnd,
  ) {
    this.payloads = messages.map((m) => payloadBytes(m.data));
    this.deltas = new Array<Message | null | undefined>(messages.length);
  }

  /** The chain's end after this run. */
  end(): ChainEnd {
    const last = this.messages.length - 1;
    return last < 0 ? this.start : { id: this.messages[last]!.id, payload: this.payloads[last] };
  }

  /** messages[i] as a delta from the message before it, or whole when that does not pay. */
  private at(i: number): Message {
    let d = this.deltas[i];
    if (d === undefined) {
      const prev: ChainEnd = i === 0 ? this.start : { id: this.messages[i - 1]!.id, payload: this.payloads[i - 1] };
      d = deltaForm(this.messages[i]!, this.payloads[i], prev.id, prev.payload) ?? null;
      this.deltas[i] = d;
      if (d !== null) this.encoded++;
    }
    return d ?? this.messages[i]!;
  }

  /**
   * The messages at `indexes` (ascending) for a subscriber whose base is the chain start
   * (`continuous`) or nothing: each one a delta when the message before it is the one the
   * subscriber got just before.
   */
  select(indexes: readonly number[], continuous: boolean): Message[] {
    const out: Message[] = [];
    let prev = continuous ? -1 : -2;
    for (const i of indexes) {
      out.push(i - 1 === prev ? this.at(i) : this.messages[i]!);
      prev = i;
    }
    return out;
  }

  /** Every message of the run, for a subscriber whose base is the chain start or nothing. */
  all(continuous: boolean): Message[] {
    return this.select(
      this.messages.map((_, i) => i),
      continuous,
    );
  }
}
