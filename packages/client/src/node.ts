/** The Node entry: as the browser one, with the `ws` package where Node has no WebSocket (Node < 22). */
import WebSocket from 'ws';
import { platform } from './platform.js';
import type { WebSocketConstructor } from './options.js';

/** `ws`, recording the HTTP status of a refused upgrade (browsers never see one): a 401 is an auth failure. */
class NodeWebSocket extends WebSocket {
  refusedStatus: number | undefined;
  constructor(url: string) {
    super(url);
    this.on('error', (err: Error) => {
      const m = /server response: (\d{3})/.exec(err.message);
      if (m) this.refusedStatus = Number(m[1]);
    });
  }
}

platform.webSocket ??= NodeWebSocket as unknown as WebSocketConstructor;

export * from './index.js';
