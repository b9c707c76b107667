/**
 * What differs between runtimes: the WebSocket constructor (browsers and Node 22 have one; the Node
 * entry supplies `ws` otherwise) and the browser's page events.
 */
import type { WebSocketConstructor } from './options.js';

export const platform: { webSocket: WebSocketConstructor | undefined } = {
  webSocket: (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
};

/** Browser events the connection follows (RTN20): the network going and coming, the page going away. */
export interface PageEvents {
  online(): void;
  offline(): void;
  pagehide(): void;
}

/** Browsers: network changes and page unload. Returns a function that stops watching. */
export function watchPage(handlers: PageEvents): () => void {
  const w = (globalThis as { window?: Window }).window;
  if (!w?.addEventListener) return () => undefined;
  const names = ['online', 'offline', 'pagehide'] as const;
  const listener = (ev: Event): void => handlers[ev.type as (typeof names)[number]]();
  for (const n of names) w.addEventListener(n, listener);
  return () => {
    for (const n of names) w.removeEventListener(n, listener);
  };
}
