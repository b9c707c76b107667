/** Faye with the in-memory engine, mounted at /faye (WebSocket and long-polling). */
import type { Server } from 'node:http';
import faye from 'faye';

export function startFaye(server: Server): void {
  new faye.NodeAdapter({ mount: '/faye', timeout: 25 }).attach(server);
}
