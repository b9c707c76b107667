/**
 * An outbound ProtocolMessage and its encodings, each made at most once and only when a
 * transport asks for it. A channel batch builds one OutboundFrame and hands the same object to
 * every subscriber, so a message is serialised once per wire format, never once per subscriber.
 */
import { encodeJson, type Format, type ProtocolMessage } from '@encke/protocol';
import { encodeMsgpackFast } from './msgpack-value.js';
import { encodeWithoutDerivedFields } from './derived-fields.js';
import type { Faults } from '../util/faults.js';
import { wsFrame, wsHeaderText, wsTextFrame, WS_OPCODE_BINARY, WS_OPCODE_TEXT } from './ws-framing.js';

/** msgpack fixarray header of one element. */
const ONE_ELEMENT_ARRAY = Buffer.from([0x91]);

/** `frames` without those that do not encode in `format` (the same array when all do). */
export function encodableFrames(
  frames: readonly OutboundFrame[],
  format: Format,
  faults: Faults,
): readonly OutboundFrame[] {
  for (const f of frames) if (!f.encodes(format, faults)) return frames.filter((g) => g.encodes(format, faults));
  return frames;
}

/** The one-slot array `writeAlone` lends a transport, refilled for each frame. */
const ONE_FRAME: OutboundFrame[] = [];

/**
 * `sink.write` with `frame` alone, in a shared one-slot array emptied afterwards (a transport keeps
 * nothing of `frames` past `write`): for transports whose `writeOne` is their `write`.
 */
export function writeAlone(sink: { write(frames: readonly OutboundFrame[]): void }, frame: OutboundFrame): void {
  ONE_FRAME[0] = frame;
  try {
    sink.write(ONE_FRAME);
  } finally {
    ONE_FRAME.pop();
  }
}

/** `payload` framed as one HTTP/1.1 chunk: `<size in hex>\r\n<payload>\r\n`. */
export function httpChunk(payload: Uint8Array): Buffer {
  const head = `${payload.byteLength.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(head.length + payload.byteLength + 2);
  chunk.write(head, 0, 'latin1');
  chunk.set(payload, head.length);
  chunk.write('\r\n', head.length + payload.byteLength, 'latin1');
  return chunk;
}

/**
 * How a frame's message becomes JSON text and msgpack bytes: the protocol's encoders, or a
 * template that writes exactly their bytes faster for one kind of message (session/ack-frame.ts).
 * Called once per frame and format, when a transport first asks.
 */
export interface FrameEncoding {
  json(pm: ProtocolMessage): string;
  msgpack(pm: ProtocolMessage): Uint8Array;
}

/**
 * The protocol's encoders for every frame without a template; msgpack written by msgpack-value.ts
 * (the encoder's bytes in about a third of its instructions), which hands anything unusual to the encoder.
 * A MESSAGE frame's messages leave out the fields the client derives from the frame (derived-fields.ts).
 */
const ENCODERS: FrameEncoding = {
  json: (pm) => encodeWithoutDerivedFields(pm, encodeJson),
  msgpack: (pm) => encodeWithoutDerivedFields(pm, encodeMsgpackFast),
};

export class OutboundFrame {
  private jsonText: string | undefined = undefined;
  private jsonLength: number | undefined = undefined;
  private msgpackBytes: Uint8Array | undefined = undefined;
  private wsText: Buffer | undefined = undefined;
  private wsBinary: Buffer | undefined = undefined;
  private cometJson: Buffer | undefined = undefined;
  private cometMsgpack: Buffer | undefined = undefined;
  /** A template's frame (`templated`): its msgpack bytes as latin1 text, and its WebSocket frame as latin1 text in `wireFormat`. */
  private msgpackText: string | undefined = undefined;
  private wsWire: string | undefined = undefined;
  private wireFormat: Format | undefined = undefined;
  /** Encodings of other framings (SSE, iframe, multipart, the SSE API), by framing. */
  private others: Map<object, unknown> | undefined = undefined;

  /** An encoder refused this frame and that has been reported (once per frame, not per subscriber). */
  private dropReported = false;

  constructor(
    readonly pm: ProtocolMessage,
    private readonly encoding: FrameEncoding = ENCODERS,
  ) {}

  /**
   * A frame of `pm` encoded from a template for one connection in `format` (CONNECTED, ATTACHED):
   * `ascii` when the caller knows `text` is ASCII (JSON only; see isAscii).
   * `text` is what the encoder makes of `pm`, the JSON text, or for msgpack its bytes as latin1 text
   * (one char a byte). The connection's WebSocket write takes the whole frame as latin1 text, so no
   * Buffer is made for it (JSON only when ASCII, where UTF-8 and latin1 agree); any other reader
   * gets the usual encodings, msgpack bytes made from `text` if asked.
   */
  static templated(pm: ProtocolMessage, format: Format, text: string, ascii = false): OutboundFrame {
    const frame = new OutboundFrame(pm);
    frame.wireFormat = format;
    if (format === 'msgpack') {
      frame.msgpackText = text;
      frame.wsWire = wsHeaderText(text.length, WS_OPCODE_BINARY) + text;
      return frame;
    }
    frame.jsonText = text;
    // `ascii`: the caller checked the text's pieces (isAscii), so its UTF-8 length is its length. Counting it
    // instead flattens the text (made of pieces) into a copy that the frame's write flattens again (bench S3).
    const bytes = ascii ? text.length : Buffer.byteLength(text);
    if (bytes === text.length) frame.wsWire = wsHeaderText(bytes, WS_OPCODE_TEXT) + text;
    return frame;
  }

  /**
   * Whether the frame encodes in `format` (the encoding is made now and kept). Validation makes
   * every accepted message encodable, so a refusal is a bug: reported to `faults` once, and the
   * caller drops the frame for its subscriber instead of failing the connection or the process.
   */
  encodes(format: Format, faults: Faults): boolean {
    try {
      this.payload(format);
      return true;
    } catch (err) {
      if (!this.dropReported) {
        this.dropReported = true;
        faults.report(
          'encode',
          err,
          { action: this.pm.action, channel: this.pm.channel, format },
          'frame dropped: it cannot be encoded',
        );
      }
      return false;
    }
  }

  json(): string {
    return (this.jsonText ??= this.encoding.json(this.pm));
  }

  /** The UTF-8 length of `json()`, counted once for every connection the frame goes to. */
  jsonBytes(): number {
    return (this.jsonLength ??= Buffer.byteLength(this.json()));
  }

  msgpack(): Uint8Array {
    if (this.msgpackBytes !== undefined) return this.msgpackBytes;
    const text = this.msgpackText;
    return (this.msgpackBytes = text === undefined ? this.encoding.msgpack(this.pm) : Buffer.from(text, 'latin1'));
  }

  payload(format: Format): string | Uint8Array {
    return format === 'json' ? this.json() : this.msgpack();
  }

  /**
   * This frame alone as one chunk of a streamed comet response: the body (`[<json>]\n`, or a
   * one-element msgpack array) framed for HTTP/1.1 chunked encoding, so that the same bytes go to
   * every streaming subscriber in one socket write.
   */
  cometChunk(format: Format): Buffer {
    if (format === 'json') return (this.cometJson ??= httpChunk(Buffer.from(`[${this.json()}]\n`)));
    return (this.cometMsgpack ??= httpChunk(Buffer.concat([ONE_ELEMENT_ARRAY, this.msgpack()])));
  }

  /** `cometChunk(format)` if the frame encodes in `format`, else null (reported once, see `encodes`). */
  cometIfEncodes(format: Format, faults: Faults): Buffer | null {
    const made = format === 'json' ? this.cometJson : this.cometMsgpack;
    if (made !== undefined) return made;
    return this.encodes(format, faults) ? this.cometChunk(format) : null;
  }

  /**
   * This frame as `by` frames it, made once: the same piece goes to every subscriber that uses
   * that framing. `by` is a module-level constant (one entry per framing, never per connection).
   */
  memo<T>(by: object, make: (frame: OutboundFrame) => T): T {
    const map = (this.others ??= new Map<object, unknown>());
    // What `make` returned for this `by`: each key is one module constant used with one maker, so T is
    // the type stored under it (not a value from outside; a guard here would run once per delivery).
    // eslint-disable-next-line local/no-unchecked-cast
    if (map.has(by)) return map.get(by) as T;
    const made = make(this);
    map.set(by, made);
    return made;
  }

  /**
   * `wsWrite(format)` if the frame encodes in `format`, else null (reported once, see `encodes`): what
   * a WebSocket delivery reads, once the first subscriber made it a field load. A string is latin1 text.
   */
  wsIfEncodes(format: Format, faults: Faults): Buffer | string | null {
    const made = format === 'json' ? this.wsText : this.wsBinary;
    if (made !== undefined) return made;
    if (this.wsWire !== undefined && format === this.wireFormat) return this.wsWire;
    return this.encodes(format, faults) ? this.ws(format) : null;
  }

  /** The complete WebSocket frame to write: a template's latin1 text (`templated`), or the bytes. */
  wsWrite(format: Format): Buffer | string {
    return this.wsWire !== undefined && format === this.wireFormat ? this.wsWire : this.ws(format);
  }

  /** A complete WebSocket frame: JSON as text, msgpack as binary (ably-js needs exactly that). */
  ws(format: Format): Buffer {
    if (format === 'json') return (this.wsText ??= wsTextFrame(this.json(), WS_OPCODE_TEXT));
    return (this.wsBinary ??= wsFrame(this.msgpack(), WS_OPCODE_BINARY));
  }
}
