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

const actionNames: string[] = [];
for (const [name, value] of Object.entries(Action)) actionNames[value] = name;
/** The name of an action number, for logs and error messages. */
export function actionName(action: number): string {
  return actionNames[action] ?? `UNKNOWN(${action})`;
}

/** ProtocolMessage flag bits (TR3). */
export const Flag = {
  HAS_PRESENCE: 1 << 0,
  HAS_BACKLOG: 1 << 1,
  RESUMED: 1 << 2,
  TRANSIENT: 1 << 4,
  ATTACH_RESUME: 1 << 5,
  HAS_OBJECTS: 1 << 7,
  PRESENCE: 1 << 16,
  PUBLISH: 1 << 17,
  SUBSCRIBE: 1 << 18,
  PRESENCE_SUBSCRIBE: 1 << 19,
  ANNOTATION_PUBLISH: 1 << 21,
  ANNOTATION_SUBSCRIBE: 1 << 22,
  OBJECT_SUBSCRIBE: 1 << 24,
  OBJECT_PUBLISH: 1 << 25,
} as const;

/** Channel modes as they appear in `params.modes` and `channelOptions.modes`, with their flag bits. */
export const ChannelMode = {
  presence: Flag.PRESENCE,
  publish: Flag.PUBLISH,
  subscribe: Flag.SUBSCRIBE,
  presence_subscribe: Flag.PRESENCE_SUBSCRIBE,
  annotation_publish: Flag.ANNOTATION_PUBLISH,
  annotation_subscribe: Flag.ANNOTATION_SUBSCRIBE,
  object_subscribe: Flag.OBJECT_SUBSCRIBE,
  object_publish: Flag.OBJECT_PUBLISH,
} as const;
export type ChannelModeName = keyof typeof ChannelMode;

/** Every mode bit. */
export const MODE_ALL =
  Flag.PRESENCE |
  Flag.PUBLISH |
  Flag.SUBSCRIBE |
  Flag.PRESENCE_SUBSCRIBE |
  Flag.ANNOTATION_PUBLISH |
  Flag.ANNOTATION_SUBSCRIBE |
  Flag.OBJECT_SUBSCRIBE |
  Flag.OBJECT_PUBLISH;

/**
 * Modes granted on an ATTACH that requests none: what real Ably grants a full-capability key
 * (3080192; ably-js test channel.test.js attachWithInvalidChannelParams). Annotation-subscribe and
 * the object modes are granted only when asked for.
 */
export const MODE_DEFAULT =
  Flag.PRESENCE | Flag.PUBLISH | Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE | Flag.ANNOTATION_PUBLISH;

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
