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
import { fillAlnum, fillAlnumFromText, randomAlnum, randomId } from '../util/ids.js';

const CONNECTION_ID_LENGTH = 12;
const SECRET_LENGTH = 16;
const KEY_RE = /^([A-Za-z0-9_-]{12})!([A-Za-z0-9]{16})([0-9a-z]{1,11})$/;

/**
 * Connection ids are made ID_BATCH at a time, in one encoding of the random pool, and their secrets
 * derived in one cipher call (bench S3: a digest per open was a native call, its argument checks and a
 * string, ~14k instructions an open of ~650k). The secret of the id handed out last is read from the
 * batch when the open asks for it; any other id's is derived again, from the id alone.
 */
const ID_BATCH = 64;
/** 9 random bytes: 12 base64url characters (no padding: every such id is the encoding of exactly one 9 bytes). */
const ID_BYTES = 9;
const AES_BLOCK = 16;
/** Blocks of cipher output a secret is first made from: 32 bytes give 16 characters but for about one id in 10^17. */
const FIRST_BLOCKS = 2;
const PER_ID = FIRST_BLOCKS * AES_BLOCK;

/** The key a connection's derived secret is made with: random, one per process, never leaves it. */
const AES_KEY = crypto.randomBytes(32);
/**
 * AES-256 (ECB: each block on its own, so one cipher serves every derivation, batched or not; no padding:
 * whole blocks in, as many out). Never finalised.
 */
const cipher = crypto.createCipheriv('aes-256-ecb', AES_KEY, null).setAutoPadding(false);

/**
 * Block `n` of an id: its 12 characters (one byte each), three zero bytes, then `n` (distinct for every id
 * and n). The blocks of a batch's ids are written in one call: one text made by a replace over the batch's
 * ids (no loop per id or byte), written as latin1.
 */
const ID_CHARS = (ID_BYTES / 3) * 4;
const EACH_ID = /[A-Za-z0-9_-]{12}/g;
const ID_BLOCKS = '$&\0\0\0\x00$&\0\0\0\x01';
const BATCH_INPUT = Buffer.alloc(ID_BATCH * PER_ID);
const ONE_INPUT = Buffer.alloc(PER_ID);
/** A block past the first ones, for the rare secret they fall short of. */
const MORE_INPUT = Buffer.alloc(AES_BLOCK);

let batchText = '';
let batchOutput: Buffer = Buffer.alloc(0);
let nextInBatch = ID_BATCH;
/** The id handed out last, and where its cipher output is in `batchOutput`. */
let issuedId: string | undefined;
let issuedAt = 0;

export function newConnectionId(): string {
  if (nextInBatch >= ID_BATCH) {
    batchText = randomId(ID_BYTES * ID_BATCH);
    BATCH_INPUT.write(batchText.replace(EACH_ID, ID_BLOCKS), 0, 'latin1');
    batchOutput = cipher.update(BATCH_INPUT);
    nextInBatch = 0;
  }
  const i = nextInBatch++;
  // Shorter than V8's shortest sliced string: a copy, which does not keep the batch's text.
  issuedId = batchText.slice(i * ID_CHARS, (i + 1) * ID_CHARS);
  issuedAt = i * PER_ID;
  return issuedId;
}

export function newConnectionSecret(): string {
  return randomAlnum(SECRET_LENGTH);
}

/** The key of the digest an id of another shape derives its secret with (hex; its own key, not AES_KEY). */
const SECRET_KEY = crypto.randomBytes(32).toString('hex');

/**
 * SHA-256 of a string in one call, as latin1 text (one char a byte; node's 'binary'). `crypto.hash` (Node 20.12 and
 * later) makes no Hash object; older Node 20 releases fall back to createHash.
 */
const sha256: (data: string) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'binary')
    : (data) => crypto.createHash('sha256').update(data).digest('binary');

/** Where a derived secret is assembled before it becomes a string (the derivation is synchronous). */
const SECRET_SCRATCH = Buffer.allocUnsafe(SECRET_LENGTH);
const ID_SHAPE = /^[A-Za-z0-9_-]{12}$/;

/** The secret of `id` from its first blocks enciphered (`output` from `at`), with further blocks in the rare case they fall short. */
function secretFrom(id: string, output: Buffer, at: number): string {
  const out = SECRET_SCRATCH;
  let filled = fillAlnum(out, 0, output, at, at + PER_ID);
  for (let n = FIRST_BLOCKS; filled < SECRET_LENGTH; n++) {
    MORE_INPUT.write(id, 0, ID_CHARS, 'latin1');
    MORE_INPUT[AES_BLOCK - 1] = n;
    filled = fillAlnum(out, filled, cipher.update(MORE_INPUT));
  }
  return out.toString('latin1', 0, SECRET_LENGTH);
}

/**
 * The secret of a connection that started on this node, derived from its id instead of kept in a
 * string of its own per connection (bench S3: 40 bytes an idle connection): the first 16 `[A-Za-z0-9]`
 * characters of the id's blocks (block n: its 12 characters, three zero bytes, n) enciphered with this
 * process's random AES-256 key. Ids are public; without the key the secret cannot be told from random
 * (AES as a pseudorandom function of distinct blocks). An id of another shape (none that this node
 * makes) takes SHA-256 of another random key and the id. A connection taken over from another node
 * keeps a random secret of its own (Session), so keys handed out before a move do not come back.
 */
export function derivedConnectionSecret(connectionId: string): string {
  if (connectionId === issuedId) return secretFrom(connectionId, batchOutput, issuedAt);
  if (ID_SHAPE.test(connectionId)) {
    ONE_INPUT.write(connectionId.replace(EACH_ID, ID_BLOCKS), 0, 'latin1');
    return secretFrom(connectionId, cipher.update(ONE_INPUT), 0);
  }
  const out = SECRET_SCRATCH;
  let digest = sha256(SECRET_KEY + connectionId);
  // 32 bytes give 16 characters but for about one id in 10^17; then the digest is hashed on.
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
