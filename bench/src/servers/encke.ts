/**
 * encke as shipped: default options, one full-capability key; the memory engine, or with a Redis
 * URL the Redis engine (one node of a cluster, as `encke serve --redis URL`: every node of a
 * deployment gets the same key and the same Redis). V8's tier-up thresholds are set as `encke serve`
 * sets them (`tuneV8`, before the server's code first runs; ENCKE_V8_TUNING=off for V8's defaults).
 */
import { createServer, tuneV8 } from '@encke/server';
import { ENCKE_KEY } from '../clients/encke.js';

export async function startEncke(redis?: string): Promise<number> {
  tuneV8();
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    keys: [ENCKE_KEY],
    ...(redis === undefined ? {} : { redis }),
  });
  const address = await server.listen();
  return address.port;
}
