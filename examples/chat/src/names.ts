/** Names and labels: display names, rooms, avatars, transports. */

/** What the server's token endpoint accepts as a clientId (server: demo/routes.ts DEMO_CLIENT_ID). */
export const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]{0,31}$/u;
/** Room names: the channel is `chat:<room>`. */
export const ROOM = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const DEFAULT_ROOMS: readonly string[] = ['general', 'random', 'help'];
export const ROOM_NAMESPACE = 'chat';

export const channelOf = (room: string): string => `${ROOM_NAMESPACE}:${room}`;

export function cleanName(raw: string): string | undefined {
  const name = raw.normalize('NFC').trim();
  return NAME.test(name) ? name : undefined;
}

/** Up to two initials: "Ana Lima" → "AL", "bo" → "B". */
export function initials(name: string): string {
  const words = name.split(/[\s._'-]+/u).filter(Boolean);
  const letters =
    words.length > 1
      ? [words[0]!, words[words.length - 1]!].map((w) => [...w][0]!)
      : [...(words[0] ?? '?')].slice(0, 1);
  return letters.join('').toUpperCase();
}

/** A stable hue for a name, so each person keeps one colour. */
export function hueOf(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) % 360;
  return h;
}

export { transportLabel } from '@encke/protocol/transport-labels';

/** "Ana", "Ana and Bo", "Ana, Bo and Cy", "Ana, Bo and 3 others". */
export function typingSentence(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
}
