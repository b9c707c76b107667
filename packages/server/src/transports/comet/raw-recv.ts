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
 */
import { checkOrigin, checkTls } from '../../auth/authenticate.js';
import { credentialsFromQuery } from '../../auth/credentials.js';
import type { NodeContext } from '../../context.js';
import type { NextRequestReader, ParkedResponse } from '../../http/parked.js';
import { parseQuery } from '../../http/query-params.js';
import { parseRecvHead } from '../../http/recv-head.js';
import { recvMode, type RecvMode } from './framing/select.js';
import type { CometRegistry } from './registry.js';

export class RawRecvReader implements NextRequestReader {
  constructor(
    private readonly ctx: NodeContext,
    private readonly registry: CometRegistry,
  ) {}

  read(parked: ParkedResponse, bytes: Buffer): boolean {
    const head = parseRecvHead(bytes);
    if (!head || !parked.serving) return false;
    const found = this.registry.find(head.key, true);
    if (!found?.verified) return false;
    const transport = found.transport;
    let mode: RecvMode;
    try {
      const query = parseQuery(head.query);
      const auth = found.verified.reuse(credentialsFromQuery(query) ?? {}, this.ctx.clock.now());
      if (!auth || auth.app.id !== found.appId) return false;
      checkTls(auth, false);
      // No Origin or Referer passed the head's allowlist: the request names no page.
      checkOrigin(auth, undefined);
      mode = recvMode(query, head.accept, transport.stream, this.ctx.options.cometSseRetry);
    } catch {
      // Refused: node:http and the route answer it with the error, as always.
      return false;
    }
    if (mode.framing || mode.ack !== undefined) return false;
    parked.hold(transport);
    this.registry.rawRecvs++;
    try {
      transport.attachParked(parked, head.accept, mode);
    } catch (err) {
      // The bytes are taken: no route is left to answer a failure, so the socket goes (a fault).
      this.ctx.logger.error({ err }, 'comet recv failed');
      parked.destroy();
    }
    return true;
  }
}
