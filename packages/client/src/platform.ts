/**
 * What differs between runtimes: the WebSocket constructor (browsers and Node 22 have one; the Node
 * entry supplies `ws` otherwise) and the browser's page events.
 */
import type { WebSocketConstructor } from './options.js';

export const platform: { webSocket: WebSocketConstructor | undefined } = {
  webSocket: (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
};

interface PageEvents {
  online(): void;
  offline(): void;
  unload(): void;
}

/** Browsers: network changes and page unload (RTN20). Returns a function that stops watching. */
export function watchPage(handlers: PageEvents): () => void {
  const w = (globalThis as { window?: Window }).window;
  if (!w?.addEventListener) return () => undefined;
  const online = (): void => handlers.online();
  const offline = (): void => handlers.offline();
  const unload = (): void => handlers.unload();
  w.addEventListener('online', online);
  w.addEventListener('offline', offline);
  w.addEventListener('pagehide', unload);
  return () => {
    w.removeEventListener('online', online);
    w.removeEventListener('offline', offline);
    w.removeEventListener('pagehide', unload);
  };
}
