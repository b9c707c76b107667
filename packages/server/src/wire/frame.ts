/**
 * An outbound ProtocolMessage and its encodings, each made at most once and only when a
 * transport asks for it. A channel batch builds one OutboundFrame and hands the same object to
 * every subscriber, so a message is serialised once per wire format, never once per subscriber.
 */
import { encodeJson, encodeMsgpack, type Format, type ProtocolMessage } from '@encke/protocol';
import { wsFrame, WS_OPCODE_BINARY, WS_OPCODE_TEXT } from './ws-framing.js';

export class OutboundFrame {
  private jsonText: string | undefined = undefined;
  private msgpackBytes: Uint8Array | undefined = undefined;
  private wsText: Buffer | undefined = undefined;
  private wsBinary: Buffer | undefined = undefined;

  constructor(readonly pm: ProtocolMessage) {}

  json(): string {
    return (this.jsonText ??= encodeJson(this.pm));
  }

  msgpack(): Uint8Array {
    return (this.msgpackBytes ??= encodeMsgpack(this.pm));
  }

  payload(format: Format): string | Uint8Array {
    return format === 'json' ? this.json() : this.msgpack();
  }

  /** A complete WebSocket frame: JSON as text, msgpack as binary (ably-js needs exactly that). */
  ws(format: Format): Buffer {
    if (format === 'json') return (this.wsText ??= wsFrame(this.json(), WS_OPCODE_TEXT));
    return (this.wsBinary ??= wsFrame(this.msgpack(), WS_OPCODE_BINARY));
  }
}
