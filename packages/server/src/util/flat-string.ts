/**
 * One sequential string made of `parts`, for strings the channel log keeps (message ids and
 * serials, an event's id and serial). V8 makes a `+` or template result of 13 characters or more a
 * cons string (a pair of pointers to its parts); the first write or comparison that needs its
 * characters flattens it into a second, sequential string while the pair stays referenced. Kept in
 * the log, a publish's ids and serials were then each two or three objects instead of one, all
 * copied by every scavenge they survive (bench S7: what a scavenge copies is mostly the log).
 * Array join writes the characters once, into one string.
 */
export function flatString(parts: readonly (string | number)[]): string {
  return parts.join('');
}
