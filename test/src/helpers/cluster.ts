/** Several encke nodes sharing one test Redis, in this process. */
import { createServer, type EnckeNode, type ServerOptions } from '@encke/server';
import type { TestRedis } from './redis.js';
import { TEST_APPS } from './server.js';

export interface TestCluster {
  nodes: EnckeNode[];
  ports: number[];
  prefix: string;
  close(): Promise<void>;
}

export async function startCluster(redis: TestRedis, count: number, options: ServerOptions = {}): Promise<TestCluster> {
  const prefix = `c${Math.random().toString(36).slice(2, 8)}:`;
  const nodes: EnckeNode[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer({
      host: '127.0.0.1',
      port: 0,
      apps: TEST_APPS,
      redis: redis.url,
      redisPrefix: prefix,
      serverId: `${prefix}node${i}`,
      nodeTimeout: 1500,
      ...options,
    });
    ports.push((await server.listen()).port);
    nodes.push(server);
  }
  return {
    nodes,
    ports,
    prefix,
    close: async () => {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}
