/**
 * `GET /health` (the process answers) and `GET /ready` (it should be sent traffic: shared state is
 * reachable and it is not draining; 503 otherwise), for load balancers and service managers. No
 * credentials and no engine round trip: the answer is built from state the node already holds.
 */
import { sendJson } from './respond.js';
import type { Router } from './router.js';

export interface Readiness {
  /** True when both of the below allow traffic. */
  ready: boolean;
  /** Shutting down (SIGTERM): load balancers should stop sending new connections. */
  draining: boolean;
  /** The engine reaches its shared state (always true for the memory engine). */
  engine: boolean;
}

const NO_STORE = { 'Cache-Control': 'no-store' };
const HTTP_OK = 200;
const HTTP_UNAVAILABLE = 503;

/** `serverId` in /health tells which node answered (behind a load balancer). */
export function registerHealthRoutes(router: Router, serverId: string, readiness: () => Readiness): void {
  const health = { status: 'ok', serverId };
  router.add('GET', '/health', ({ res }) => sendJson(res, HTTP_OK, health, NO_STORE));
  router.add('GET', '/ready', ({ res }) => {
    const r = readiness();
    sendJson(res, r.ready ? HTTP_OK : HTTP_UNAVAILABLE, r, NO_STORE);
  });
}
