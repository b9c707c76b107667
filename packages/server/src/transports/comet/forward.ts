/**
 * Comet requests for a connection another node owns are forwarded to that node, so no sticky
 * sessions are needed: a load balancer may send each recv and send of a connection anywhere. The
 * owner authenticates the request again; a forwarded request is never forwarded a second time.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { NodeContext } from '../../context.js';
import type { ConnectionRecord } from '../../engine/connection-store.js';
import type { HttpRequest } from '../../http/router.js';

export const FORWARDED_HEADER = 'x-encke-forwarded';

/** Headers that belong to one hop, not to the request. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

/**
 * Forwards `r` to the live node that owns the connection of `record` (the shared record its key
 * names), when there is one; false when the request is this node's to answer (already forwarded,
 * this node's own record, dead or unreachable owner).
 */
export async function forwardToOwner(ctx: NodeContext, r: HttpRequest, record: ConnectionRecord): Promise<boolean> {
  const store = ctx.engine.connections;
  if (!store || r.req.headers[FORWARDED_HEADER] !== undefined || record.owner === ctx.options.serverId) return false;
  const where = await store.node(record.owner);
  if (!where.alive || !where.url) return false;
  const target = new URL(r.req.url ?? '/', where.url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  await new Promise<void>((resolve) => {
    const upstream = request(
      target,
      { method: r.method, headers: { ...endToEnd(r.req.headers), [FORWARDED_HEADER]: ctx.options.serverId } },
      (answer) => {
        r.res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(r.res);
        answer.on('end', resolve);
        answer.on('error', () => {
          r.res.destroy();
          resolve();
        });
      },
    );
    upstream.on('error', (err) => {
      ctx.logger.warn({ err: err.message, owner: record.owner }, 'comet forward to the owning node failed');
      // The client resumes through connect: any node takes the connection over.
      if (!r.res.headersSent) r.res.destroy();
      resolve();
    });
    r.res.on('close', () => upstream.destroy());
    r.req.pipe(upstream);
  });
  return true;
}
