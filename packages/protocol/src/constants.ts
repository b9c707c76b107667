/**
 * Named constants of the Ably realtime protocol (spec TR2, TR3, TP3, TM5).
 * Use these everywhere, tests included: `Action.ATTACHED`, never `11`.
 */

/** ProtocolMessage actions (TR2). */
export const Action = {
  HEARTBEAT: 0,
  ACK: 1,
  NACK: 2,
  CONNECT: 3,
  CONNECTED: 4,
  DISCONNECT: 5,
  DISCONNECTED: 6,
  CLOSE: 7,
  CLOSED: 8,
  ERROR: 9,
  ATTACH: 10,
  ATTACHED: 11,
  DETACH: 12,
  DETACHED: 13,
  PRESENCE: 14,
  MESSAGE: 15,
  SYNC: 16,
  AUTH: 17,
  ACTIVATE: 18,
  OBJECT: 19,
  OBJECT_SYNC: 20,
  ANNOTATION: 21,
} as const;
export type ActionName = keyof typeof Action;
export type ActionValue = (typeof Action)[ActionName];

// Built on first use, not at load, so that a browser bundle importing only `Action` drops it.
let actionNames: string[] | undefined;
/** The name of an action number, for logs and error messages. */
export function actionName(action: number): string {
  if (!actionNames) {
    actionNames = [];
    for (const [name, value] of Object.entries(Action)) actionNames[value] = name;
  }
  return actionNames[action] ?? `UNKNOWN(${action})`;
}

// Mode bits as plain constants, so that the derived masks below are constant expressions a
// bundler can fold or drop (a browser bundle that imports only `Flag` keeps no mask).
const PRESENCE = 1 << 16;
const PUBLISH = 1 << 17;
const SUBSCRIBE = 1 << 18;
const PRESENCE_SUBSCRIBE = 1 << 19;
const ANNOTATION_PUBLISH = 1 << 21;
const ANNOTATION_SUBSCRIBE = 1 << 22;
const OBJECT_SUBSCRIBE = 1 << 24;
const OBJECT_PUBLISH = 1 << 25;

/** ProtocolMessage flag bits (TR3). */
export const Flag = {
  HAS_PRESENCE: 1 << 0,
  HAS_BACKLOG: 1 << 1,
  RESUMED: 1 << 2,
  TRANSIENT: 1 << 4,
  ATTACH_RESUME: 1 << 5,
  HAS_OBJECTS: 1 << 7,
  PRESENCE,
  PUBLISH,
  SUBSCRIBE,
  PRESENCE_SUBSCRIBE,
  ANNOTATION_PUBLISH,
  ANNOTATION_SUBSCRIBE,
  OBJECT_SUBSCRIBE,
  OBJECT_PUBLISH,
} as const;

/** Channel modes as they appear in `params.modes` and `channelOptions.modes`, with their flag bits. */
export const ChannelMode = {
  presence: PRESENCE,
  publish: PUBLISH,
  subscribe: SUBSCRIBE,
  presence_subscribe: PRESENCE_SUBSCRIBE,
  annotation_publish: ANNOTATION_PUBLISH,
  annotation_subscribe: ANNOTATION_SUBSCRIBE,
  object_subscribe: OBJECT_SUBSCRIBE,
  object_publish: OBJECT_PUBLISH,
} as const;
export type ChannelModeName = keyof typeof ChannelMode;

/** Every mode bit. */
export const MODE_ALL =
  PRESENCE |
  PUBLISH |
  SUBSCRIBE |
  PRESENCE_SUBSCRIBE |
  ANNOTATION_PUBLISH |
  ANNOTATION_SUBSCRIBE |
  OBJECT_SUBSCRIBE |
  OBJECT_PUBLISH;

/**
 * Modes granted on an ATTACH that requests none: what real Ably grants a full-capability key
 * (3080192; ably-js test channel.test.js attachWithInvalidChannelParams). Annotation-subscribe and
 * the object modes are granted only when asked for.
 */
export const MODE_DEFAULT = PRESENCE | PUBLISH | SUBSCRIBE | PRESENCE_SUBSCRIBE | ANNOTATION_PUBLISH;

/** Parses a `modes` attach param (`"subscribe"`, `"presence,subscribe"`) into flag bits; undefined if invalid. */
export function parseModes(value: string): number | undefined {
  let flags = 0;
  for (const raw of value.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    const bit = (ChannelMode as Record<string, number>)[name];
    if (bit === undefined) return undefined;
    flags |= bit;
  }
  return flags;
}

/** PresenceMessage actions (TP2). */
export const PresenceAction = {
  ABSENT: 0,
  PRESENT: 1,
  ENTER: 2,
  LEAVE: 3,
  UPDATE: 4,
} as const;

/** Message actions (TM5). */
export const MessageAction = {
  CREATE: 0,
  UPDATE: 1,
  DELETE: 2,
  META: 3,
  SUMMARY: 4,
  APPEND: 5,
} as const;

/** Message actions a client may publish on an existing message (its `serial`): the mutations. */
export function isMutationAction(action: number | undefined): boolean {
  return action === MessageAction.UPDATE || action === MessageAction.DELETE || action === MessageAction.APPEND;
}

/** Annotation actions (TAN2b). */
export const AnnotationAction = {
  CREATE: 0,
  DELETE: 1,
} as const;

/** Protocol versions (`v=` / `X-Ably-Version`) the server accepts; ably-js 2.x sends 3 to 6. */
export const MIN_PROTOCOL_VERSION = 2;
export const MAX_PROTOCOL_VERSION = 6;
