/**
 * encke as shipped: default options, one full-capability key; the memory engine, or with a Redis
 * URL the Redis engine (one node of a cluster, as `encke serve --redis URL`: every node of a
 * deployment gets the same key and the same Redis).
 */
import { createServer } from '@encke/server';
import { ENCKE_KEY } from '../clients/encke.js';

export async function startEncke(redis?: string): Promise<number> {
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    keys: [ENCKE_KEY],
    ...(redis === undefined ? {} : { redis }),
  });
  const address = await server.listen();
  return address.port;
}
