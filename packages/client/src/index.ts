/**
 * @encke/client: a realtime client for encke (and any Ably-protocol server), for browsers and
 * Node. `new Realtime({ key, endpoint })` and the ably-js shapes: connection, channels, presence.
 */
export { Realtime, RealtimeAuth } from './realtime.js';
export { ErrorInfo } from './errors.js';
export type { ClientOptions, WebSocketConstructor } from './options.js';
export type { Connection } from './connection/connection.js';
export type { ConnectionState, ConnectionEvent, ConnectionStateChange } from './connection/types.js';
export type {
  RealtimeChannel,
  ChannelState,
  ChannelEvent,
  ChannelStateChange,
  ChannelOptions,
  HistoryParams,
} from './channel/channel.js';
export type { Channels } from './channel/channels.js';
export type { RealtimePresence, PresenceGetParams } from './channel/presence.js';
export type { Message, PresenceMessage, PresenceActionName, MessageData } from './channel/message.js';
export type { PaginatedResult } from './channel/paginated.js';
export type { TokenDetails, TokenParams, TokenRequest, TokenLike, AuthCallback } from './auth/types.js';
export type { TransportName } from './transports/names.js';
export type { Transport, TransportContext, TransportModule, TransportSink } from './transports/transport.js';
export type { Codec } from './codec/codec.js';
export type { Clock } from './util/clock.js';
