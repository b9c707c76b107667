/** Transport names: ably-js's where one exists (`web_socket`, `xhr_streaming`, `xhr_polling`, `jsonp`), encke's own otherwise. */
export const TRANSPORTS = ['web_socket', 'xhr_streaming', 'xhr_polling', 'polling', 'sse', 'jsonp', 'iframe', 'multipart'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** The order tried when `transports` is not given: the best first, the most widely working last. */
export const DEFAULT_ORDER: readonly TransportName[] = ['web_socket', 'xhr_streaming', 'xhr_polling'];
