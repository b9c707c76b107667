/**
 * Frames a WebSocket client sends before its connection is established (transports/ws-inbound.ts:
 * EarlyFrames, held in the transport's one field for who takes the client's frames, issue 19). With a
 * token the open waits, so frames sent in the same TCP write as the upgrade request reach the
 * transport before CONNECTED: they are held and answered after it, in order; past the limit (100
 * frames) the client gets ERROR 80013 and the connection ends. Raw TCP (the frames must ride with
 * the upgrade), JSON and msgpack.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  Action,
  Err,
  decodeFrame,
  encodeProtocolMessage,
  isPlainObject,
  parseProtocolMessage,
  type Format,
  type ProtocolMessage,
} from '@encke/protocol';
import { fetchToken } from './helpers/auth.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const MASK = [0x11, 0x22, 0x33, 0x44];

/** A masked client frame carrying `pm` (text for JSON, binary for msgpack). */
function clientFrame(pm: ProtocolMessage, format: Format): Buffer {
  const encoded = encodeProtocolMessage(pm, format);
  const payload = typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : Buffer.from(encoded);
  const opcode = format === 'json' ? 1 : 2;
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, 0x80 | len])
      : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 255]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ MASK[i % 4]!;
  return Buffer.concat([head, Buffer.from(MASK), masked]);
}

/** What the server sent after its 101 head: its messages, the ERROR's code, and whether a close frame came. */
interface Answer {
  messages: ProtocolMessage[];
  /** The code in an ERROR's `error` (which the client message parser does not keep). */
  errorCode: unknown;
  closeFrame: boolean;
}

/** The server's frames in `bytes` after the 101 head (unmasked; text or binary messages, close). */
function serverFrames(bytes: Buffer, format: Format): Answer {
  const answer: Answer = { messages: [], errorCode: undefined, closeFrame: false };
  let at = bytes.indexOf('\r\n\r\n') + 4;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (at + 4 > bytes.length) break;
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    }
    if (start + length > bytes.length) break;
    const payload = bytes.subarray(start, start + length);
    if (opcode === 8) answer.closeFrame = true;
    else if (opcode === 1 || opcode === 2) {
      const frame = format === 'json' ? payload.toString('utf8') : new Uint8Array(payload);
      const raw = decodeFrame(frame, format);
      answer.messages.push(parseProtocolMessage(raw));
      if (isPlainObject(raw) && raw.action === Action.ERROR && isPlainObject(raw.error))
        answer.errorCode = raw.error.code;
    }
    at = start + length;
  }
  return answer;
}

/**
 * Sends the upgrade request and `frames` in one write; reads until `done` says the answer is
 * complete, or the server closes.
 */
function exchange(
  port: number,
  query: string,
  frames: Buffer[],
  format: Format,
  done: (a: Answer) => boolean,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`incomplete answer: ${JSON.stringify(serverFrames(Buffer.concat(parts), format).messages)}`));
    }, 5000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(serverFrames(Buffer.concat(parts), format));
    };
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      if (done(serverFrames(Buffer.concat(parts), format))) finish();
    });
    socket.on('close', finish);
    const head =
      `GET /?${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), ...frames]));
  });
}

for (const format of ['json', 'msgpack'] as Format[]) {
  describe(`frames sent with the upgrade, before CONNECTED (${format})`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startServer();
    });
    after(() => ts.close());

    const query = async (): Promise<string> =>
      `access_token=${encodeURIComponent(await fetchToken(ts.port, KEYS.full))}&format=${format}&v=6`;

    it('are held and answered after CONNECTED, in order', async () => {
      const channel = `early-${format}`;
      const frames = [
        clientFrame({ action: Action.ATTACH, channel }, format),
        clientFrame({ action: Action.HEARTBEAT, id: 'early' }, format),
      ];
      const answer = await exchange(ts.port, await query(), frames, format, (a) =>
        a.messages.some((pm) => pm.action === Action.HEARTBEAT && pm.id === 'early'),
      );
      assert.deepEqual(
        answer.messages.map((pm) => pm.action),
        [Action.CONNECTED, Action.ATTACHED, Action.HEARTBEAT],
      );
      assert.equal(answer.messages[1]!.channel, channel);
    });

    it('past 100 of them: ERROR 80013 and the connection ends', async () => {
      const frames = Array.from({ length: 101 }, (_, i) =>
        clientFrame({ action: Action.HEARTBEAT, id: `e${i}` }, format),
      );
      const answer = await exchange(ts.port, await query(), frames, format, (a) => a.closeFrame);
      assert.ok(
        answer.messages.some((pm) => pm.action === Action.ERROR),
        `an ERROR: ${JSON.stringify(answer.messages)}`,
      );
      assert.equal(answer.errorCode, Err.protocolError.code);
      assert.ok(!answer.messages.some((pm) => pm.action === Action.HEARTBEAT), 'none of them answered');
      assert.ok(answer.closeFrame, 'closed');
    });
  });
}
