/**
 * Wire types of the Ably realtime protocol (spec TR4, TM2, TP3, CD2, TI1).
 * All fields are optional on the wire except `action`; empty ones are omitted.
 */

/** Message payload: a string, or bytes (msgpack `bin`, or base64 in JSON with a trailing `base64` encoding step). */
export type Data = string | Uint8Array;

/** ErrorInfo (TI1). ably-js rejects one without a string `message` and numeric `code` and `statusCode`. */
export interface ErrorInfo {
  message: string;
  code: number;
  statusCode: number;
  href?: string;
  cause?: ErrorInfo;
  detail?: Record<string, string>;
}

/** The version object of a mutable message (TM2s); what a client sends as the operation is the same minus serial and timestamp. */
export interface MessageVersion {
  serial?: string;
  timestamp?: number;
  clientId?: string;
  description?: string;
  metadata?: Record<string, string>;
}

/** `message.annotations` (TM2u): the roll-up of the message's annotations, by annotation type. */
export interface MessageAnnotations {
  summary?: Record<string, unknown>;
}

/** A channel message (TM2). */
export interface Message {
  id?: string;
  clientId?: string;
  connectionId?: string;
  /** REST only: "publish on behalf of" a realtime connection (TM2h). */
  connectionKey?: string;
  name?: string;
  data?: Data;
  encoding?: string;
  extras?: Record<string, unknown>;
  timestamp?: number;
  /** MessageAction; 0 (create) for ordinary publishes. */
  action?: number;
  serial?: string;
  version?: MessageVersion;
  annotations?: MessageAnnotations;
}

/** An annotation of a message (TAN1): `action` 0 create, 1 delete; `type` is `namespace:method.v1`. */
export interface Annotation {
  id?: string;
  action: number;
  clientId?: string;
  connectionId?: string;
  /** This annotation's own serial, in the channel's order. */
  serial?: string;
  /** The serial of the message it annotates. */
  messageSerial?: string;
  type?: string;
  name?: string;
  count?: number;
  data?: Data;
  encoding?: string;
  extras?: Record<string, unknown>;
  timestamp?: number;
}

/** A presence message (TP3). */
export interface PresenceMessage {
  id?: string;
  action: number;
  clientId?: string;
  connectionId?: string;
  data?: Data;
  encoding?: string;
  extras?: Record<string, unknown>;
  timestamp?: number;
}

/** Connection details carried by every CONNECTED (CD2). */
export interface ConnectionDetails {
  connectionKey: string;
  clientId?: string;
  maxMessageSize: number;
  maxFrameSize: number;
  maxInboundRate: number;
  maxOutboundRate?: number;
  connectionStateTtl: number;
  maxIdleInterval: number;
  serverId: string;
}

/** One entry of ACK `res` (v5+): the serials of the messages of one acknowledged ProtocolMessage. */
export interface PublishResult {
  serials: (string | null)[];
}

/** The Ably ProtocolMessage (TR4). */
export interface ProtocolMessage {
  action: number;
  id?: string;
  channel?: string;
  channelSerial?: string;
  connectionId?: string;
  connectionDetails?: ConnectionDetails;
  msgSerial?: number;
  count?: number;
  error?: ErrorInfo;
  flags?: number;
  timestamp?: number;
  messages?: Message[];
  presence?: PresenceMessage[];
  annotations?: Annotation[];
  auth?: { accessToken: string };
  params?: Record<string, string>;
  res?: PublishResult[];
}

/** The two wire formats. Comet is JSON only in ably-js, but the server also speaks msgpack bodies. */
export type Format = 'json' | 'msgpack';
