/**
 * The reference ceiling: a bare `ws` broadcast server that frames each published message once and
 * writes that one buffer to every subscriber's socket, one frame per message. Protocol (text
 * frames): `s:<channel>` subscribes (answered `ok:<channel>`), `p:<channel>:<payload>` publishes.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData } from 'ws';

/** RFC 6455 §5.2 server frame: FIN + text, unmasked. */
function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (length < 126) frame[1] = length;
  else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, header);
  return frame;
}

export function startBareWs(server: Server): void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  const channels = new Map<string, Set<Duplex>>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const joined: Set<Duplex>[] = [];
      ws.on('message', (data: RawData) => {
        const msg = data as Buffer;
        if (msg[0] === 0x70 /* p */) {
          const colon = msg.indexOf(0x3a, 2);
          const subscribers = channels.get(msg.toString('utf8', 2, colon));
          if (!subscribers) return;
          const frame = textFrame(msg.subarray(colon + 1));
          for (const s of subscribers) s.write(frame);
        } else if (msg[0] === 0x73 /* s */) {
          const name = msg.toString('utf8', 2);
          let set = channels.get(name);
          if (!set) channels.set(name, (set = new Set()));
          set.add(socket);
          joined.push(set);
          ws.send(`ok:${name}`);
        }
      });
      ws.on('close', () => {
        for (const set of joined) set.delete(socket);
      });
      ws.on('error', () => ws.terminate());
    });
  });
}
