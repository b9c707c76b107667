/** Transport names: ably-js's where one exists (`web_socket`, `xhr_streaming`, `xhr_polling`, `jsonp`), encke's own otherwise. */
export const TRANSPORTS = [
  'web_socket',
  'xhr_streaming',
  'xhr_polling',
  'polling',
  'sse',
  'jsonp',
  'iframe',
  'multipart',
] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** The order tried when `transports` is not given: the best first, the most widely working last. */
export const DEFAULT_ORDER: readonly TransportName[] = ['web_socket', 'xhr_streaming', 'xhr_polling'];

/**
 * What a connection attempt tries: a transport, or `shared`, a tab's link to the one connection the
 * tabs of its origin share (`shareConnection`, shared/): a module of its own, loaded only then.
 */
export type Attempt = TransportName | 'shared';
