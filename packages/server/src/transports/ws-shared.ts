/**
 * What `ws` makes for every WebSocket that this server's transports (websocket.ts) share instead
 * (bench S3, idle memory per connection): the extensions object (an empty object, 56 bytes a
 * connection) and the automatic pong's callback (a closure and its context, 96 bytes). `ws` 8 makes
 * both in its constructor, as fields of the WebSocket (untyped in @types/ws); the transport's first
 * field initializer, run as soon as that constructor has returned, replaces them here (tests
 * ws-shared: a client's pings are all answered, JSON and msgpack, past `ws`'s limit of pending pongs).
 */

/** A `pong` callback, as @types/ws types it. */
export type PongCallback = (err: Error) => void;

/** `ws`'s own per-connection fields (untyped in @types/ws) that this module touches. */
export interface WsPerConnection {
  _extensions: Readonly<Record<string, unknown>>;
  _autoPongComplete: PongCallback | undefined;
  _pendingAutoPongs: number;
}

/**
 * The extensions of every transport: none, as this server negotiates none (permessage-deflate is
 * off), and `ws` then only reads it. Replaced before `setSocket`, which hands it to the receiver and
 * the sender.
 */
export const NO_EXTENSIONS: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Stands for `ws`'s automatic pong callback (its ping listener passes `_autoPongComplete` to `pong`).
 * Never called: `pongCallback` makes the callback, per ping, when it sees this.
 */
function autoPongMark(): void {}

/** Puts the shared stand-ins in place of `ws`'s own in a WebSocket just made; returns 0 (the transport's flags start there). */
export function shareWsDefaults(ws: WsPerConnection): 0 {
  ws._extensions = NO_EXTENSIONS;
  // Only with autoPong on (the server's default), as `ws` makes it.
  if (ws._autoPongComplete !== undefined) ws._autoPongComplete = autoPongMark;
  return 0;
}

/** The callback for a `pong` of `ws`: for its automatic pong, what `ws` would have made (one fewer pending). */
export function pongCallback(ws: WsPerConnection, cb: PongCallback | undefined): PongCallback | undefined {
  return cb === autoPongMark ? () => ws._pendingAutoPongs-- : cb;
}
