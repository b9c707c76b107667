/**
 * A comet client's next recv, read on its parked socket without node:http (http/parked.ts,
 * http/recv-head.ts). After every long-poll answer and every stream end the client sends the same
 * `GET /comet/<key>/recv` again on the same kept-alive socket. Through node:http that request
 * rewires the socket into node:http, allocates its parser, IncomingMessage and ServerResponse,
 * goes through the router and the async route, and is parked again a period later; here it is
 * one strict head read and the checks the route makes, and the response stays parked.
 *
 * Only the request the route would serve exactly so is taken here: a plain recv (no framing, no
 * `ack`), no header credentials, for a connection of this node whose last request carried the very
 * same credential (VerifiedCredentials, the reuse the route makes) and whose app takes it over
 * plain TCP from no particular origin. Everything else, errors included, goes to node:http
 * untouched, and the route answers it as before.
 *
 * A client repeats its recv byte for byte (ably-js and the SDKs send the same query and headers
 * every time), so what a head was read as is kept per socket (`Repeat`): the same bytes again are
 * the same key, credential and mode, and only what can have changed since is checked again (the
 * registry's `again`: the connection's record and keys, the verified credential and its expiry;
 * the app's TLS and origin rules; the server still serving). Reading the head, the query, the
 * key's and credential's comparisons and the mode were most of a re-poll's cost.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Format } from '@encke/protocol';
import { checkOrigin, checkTls } from '../../auth/authenticate.js';
import { credentialsFromQuery } from '../../auth/credentials.js';
import type { NodeContext } from '../../context.js';
import type { NextRequestReader, ParkedResponse } from '../../http/parked.js';
import { parseQuery } from '../../http/query-params.js';
import { parseRecvHead } from '../../http/recv-head.js';
import { recvMode, type RecvMode } from './framing/select.js';
import type { CometRegistry, Found } from './registry.js';
import { acceptedFormat } from './wire.js';

/** A head served here, kept for the same socket's next read. */
interface Repeat {
  /** The read's bytes as they came (the socket's own chunk, not copied). */
  readonly bytes: Buffer;
  /** The format its `Accept` names (`acceptedFormat`): read once with the head, not on every repeat. */
  readonly accepted: Format | undefined;
  readonly mode: RecvMode;
  readonly found: Found;
}

export class RawRecvReader implements NextRequestReader {
  /** The last head served on each parked socket (gone with the parked response). */
  private readonly repeats = new WeakMap<ParkedResponse, Repeat>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly registry: CometRegistry,
  ) {}

  read(parked: ParkedResponse, bytes: Buffer): boolean {
    const now = this.ctx.clock.now();
    const repeat = this.repeats.get(parked);
    let known = repeat !== undefined && sameBytes(bytes, repeat.bytes) ? repeat : undefined;
    // The same bytes again: only what may have changed since is checked (the module doc says what).
    let auth = known && this.registry.again(known.found, now);
    // Anything else, or in doubt: read and check as the route would (the same decisions as always).
    if (!auth) {
      known = this.readHead(bytes, now);
      auth = known?.found.verified.current(now);
    }
    if (!known || !auth || auth.app.id !== known.found.record.appId || !parked.serving) return false;
    try {
      checkTls(auth, false);
      // No Origin or Referer passed the head's allowlist: the request names no page.
      checkOrigin(auth, undefined);
    } catch {
      // Refused: node:http and the route answer it with the error, as always.
      return false;
    }
    if (known !== repeat) this.repeats.set(parked, known);
    const transport = known.found.record.transport;
    parked.hold(transport);
    this.registry.rawRecvs++;
    try {
      transport.attachParked(parked, known.accepted, known.mode);
    } catch (err) {
      // The bytes are taken: no route is left to answer a failure, so the socket goes (a fault).
      this.ctx.logger.error({ err }, 'comet recv failed');
      parked.destroy();
    }
    return true;
  }

  /** A plain recv's head in `bytes` for a connection here holding its credential; else undefined. */
  private readHead(bytes: Buffer, now: number): Repeat | undefined {
    const head = parseRecvHead(bytes);
    if (!head) return undefined;
    const record = this.registry.find(head.key, true);
    const verified = record?.verified;
    if (!record || !verified) return undefined;
    let mode: RecvMode;
    try {
      const query = parseQuery(head.query);
      if (!verified.reuse(credentialsFromQuery(query) ?? {}, now)) return undefined;
      mode = recvMode(query, head.accept, record.transport.stream, this.ctx.options.cometSseRetry);
    } catch {
      return undefined;
    }
    if (mode.framing || mode.ack !== undefined) return undefined;
    const accepted = acceptedFormat(head.accept);
    return { bytes, accepted, mode, found: { record, keyVersion: record.keyVersion, verified } };
  }
}

/**
 * Whether a read holds the very bytes of the last head served on its socket, compared in constant
 * time for their length: they carry a connection key and a credential, and a proxy pooling its
 * connections may send one client's request on a socket that carried another's.
 */
function sameBytes(bytes: Buffer, last: Buffer): boolean {
  return bytes.length === last.length && timingSafeEqual(bytes, last);
}
