/**
 * Connection ids and keys, and the CONNECTED that hands a key out. The key is
 * `<connectionId>!<secret><generation>`: URL-safe (comet puts it unescaped in paths), different on
 * every CONNECTED (ably-js only adopts a new connection when the key changes), and a bearer
 * secret: resuming needs the secret, compared in constant time. Any generation of a connection's
 * key resumes it, so a client that never saw the newest key (its CONNECTED was lost) can still
 * come back.
 */
import * as crypto from 'node:crypto';
import { Action, type ErrorInfo, type ProtocolMessage } from '@encke/protocol';
import { sameLengthSecretsEqual } from '../auth/secret.js';
import type { ResolvedOptions } from '../options.js';
import { fillAlnumFromText, randomAlnum, randomId } from '../util/ids.js';

const CONNECTION_ID_LENGTH = 12;
const SECRET_LENGTH = 16;
const KEY_RE = /^([A-Za-z0-9_-]{12})!([A-Za-z0-9]{16})([0-9a-z]{1,11})$/;

export function newConnectionId(): string {
  return randomId(9); // 12 base64url characters
}

export function newConnectionSecret(): string {
  return randomAlnum(SECRET_LENGTH);
}

/** The key a connection's derived secret is made with: random, one per process, never leaves it (hex). */
const SECRET_KEY = crypto.randomBytes(32).toString('hex');

/**
 * SHA-256 of a string in one call, as latin1 text (one char a byte; node's 'binary'). `crypto.hash` (Node 20.12 and
 * later) makes no Hash object, which was most of what deriving a secret cost on every open
 * (createHash: ~28k instructions of ~46k, callgrind, bench `probe --layout own`), and a text digest
 * no Buffer (~7k more); older Node 20 releases fall back to createHash.
 */
const sha256: (data: string) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'binary')
    : (data) => crypto.createHash('sha256').update(data).digest('binary');

/** Where a derived secret is assembled before it becomes a string (the derivation is synchronous). */
const SECRET_SCRATCH = Buffer.allocUnsafe(SECRET_LENGTH);

/**
 * The secret of a connection that started on this node, derived from its id instead of kept in a
 * string of its own per connection (bench S3: 40 bytes an idle connection): the first 16
 * `[A-Za-z0-9]` characters SHA-256 of (this process's random key in hex, id) gives. Ids are public;
 * without the key the secret cannot be told from random (the key is a fixed-length prefix, and only
 * part of the digest is shown, so the digest cannot be extended either). A connection taken over
 * from another node keeps a random secret of its own (Session), so keys handed out before a move do
 * not come back.
 */
export function derivedConnectionSecret(connectionId: string): string {
  const out = SECRET_SCRATCH;
  let digest = sha256(SECRET_KEY + connectionId);
  // 32 bytes give 16 characters but for about one id in 10^30; then the digest is hashed on.
  let filled = fillAlnumFromText(out, 0, digest);
  while (filled < SECRET_LENGTH) {
    digest = sha256(SECRET_KEY + Buffer.from(digest, 'latin1').toString('hex'));
    filled = fillAlnumFromText(out, filled, digest);
  }
  return out.toString('latin1', 0, SECRET_LENGTH);
}

export function formatConnectionKey(connectionId: string, secret: string, generation: number): string {
  return `${connectionId}!${secret}${generation.toString(36)}`;
}

export interface ParsedConnectionKey {
  connectionId: string;
  secret: string;
  generation: number;
}

export function parseConnectionKey(key: string): ParsedConnectionKey | undefined {
  const m = KEY_RE.exec(key);
  if (!m) return undefined;
  return { connectionId: m[1]!, secret: m[2]!, generation: parseInt(m[3]!, 36) };
}

export { CONNECTION_ID_LENGTH, SECRET_LENGTH };

/** Whether `key` is a key (any generation) of the connection with this id and secret; constant time in the secret. */
export function isKeyOf(key: string, connectionId: string, secret: string): boolean {
  const parsed = parseConnectionKey(key);
  return parsed !== undefined && parsed.connectionId === connectionId && sameLengthSecretsEqual(parsed.secret, secret);
}

/** The CONNECTED handing out `connectionKey` (with `error` after a failed resume or recover), and the node's limits. */
export function connectedMessage(
  o: ResolvedOptions,
  connectionId: string,
  connectionKey: string,
  clientId: string | undefined,
  error?: ErrorInfo,
): ProtocolMessage {
  const pm: ProtocolMessage = {
    action: Action.CONNECTED,
    connectionId,
    connectionDetails: {
      connectionKey,
      maxMessageSize: o.maxMessageSize,
      maxFrameSize: o.maxFrameSize,
      maxInboundRate: o.maxInboundRate,
      connectionStateTtl: o.connectionStateTtl,
      maxIdleInterval: o.maxIdleInterval,
      serverId: o.serverId,
    },
  };
  if (clientId !== undefined) pm.connectionDetails!.clientId = clientId;
  if (error) pm.error = error;
  return pm;
}
