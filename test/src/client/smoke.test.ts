import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { CLIENT_VARIANTS, closeClients, enckeClient, reach } from '../helpers/encke-client.js';

for (const v of CLIENT_VARIANTS) {
  test(`smoke ${v.name}`, async () => {
    const ts = await startServer();
    const a = enckeClient(ts, v);
    try {
      await reach(a, 'connected');
      const ch = a.channels.get('room');
      const got = new Promise((resolve) => void ch.subscribe((m) => resolve(m.data)));
      await ch.attach();
      await ch.publish('greeting', { hello: 'world' });
      assert.deepEqual(await got, { hello: 'world' });
    } finally {
      await closeClients(a);
      await ts.close();
    }
  });
}
