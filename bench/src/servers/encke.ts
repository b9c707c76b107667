/** encke as shipped: default options, the memory engine, one full-capability key. */
import { createServer } from '@encke/server';
import { ENCKE_KEY } from '../clients/encke.js';

export async function startEncke(): Promise<number> {
  const server = createServer({ host: '127.0.0.1', port: 0, keys: [ENCKE_KEY] });
  const address = await server.listen();
  return address.port;
}
