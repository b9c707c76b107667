/**
 * Names for people of the transports encke serves and @encke/client uses (the chat's connection
 * line and picker, the dashboard's tables). A name not listed here is shown as it is.
 */
const TRANSPORT_LABELS: Readonly<Record<string, string>> = {
  web_socket: 'WebSocket',
  comet: 'Comet (HTTP)',
  xhr_streaming: 'HTTP streaming',
  xhr_polling: 'Long polling',
  polling: 'Polling',
  sse: 'Server-Sent Events',
  jsonp: 'JSONP',
  iframe: 'Forever iframe',
  multipart: 'Multipart streaming',
};

export const transportLabel = (name: string): string => TRANSPORT_LABELS[name] ?? name;
