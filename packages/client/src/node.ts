/** The Node entry: as the browser one, with the `ws` package where Node has no WebSocket (Node < 22). */
import WebSocket from 'ws';
import { platform } from './platform.js';
import type { WebSocketConstructor } from './options.js';

platform.webSocket ??= WebSocket as unknown as WebSocketConstructor;

export * from './index.js';
