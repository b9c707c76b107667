/**
 * The check every launcher must pass: a signal sent to the process people start reaches the
 * server, which drains (a connected SDK client is told DISCONNECTED 80003) and then exits, leaving
 * nothing behind (every holder of the output pipes is gone, and nothing listens on the port).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { closeAll, connect, connectionState, realtimeAt } from './ably.js';
import type { EnckeProcess, Exit } from './process.js';

export const DRAIN_KEY = 'drain.k:drain-secret-0001';

export async function assertDrainsOn(
  p: EnckeProcess,
  signal: NodeJS.Signals,
  to: 'process' | 'group' = 'process',
): Promise<Exit> {
  const port = await p.started();
  const client = realtimeAt(port, DRAIN_KEY);
  try {
    await connect(client);
    await client.channels.get('drain').attach();
    const disconnected = connectionState(client, 'disconnected', 20_000);
    if (to === 'group') process.kill(-p.child.pid!, signal);
    else p.child.kill(signal);
    const change = await disconnected;
    assert.equal(change?.reason?.code, 80003, 'told to reconnect elsewhere');
    const exit = await p.closed;
    await p.waitFor(/"msg":"stopped"/);
    assert.equal(await listening(port), false, 'nothing listens on the port any more');
    return exit;
  } finally {
    await closeAll(client);
    p.killGroup();
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
