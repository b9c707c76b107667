import { MemoryEngine } from '@encke/server';
import { engineSuite } from './suite.js';

engineSuite(
  'memory',
  async ({ clock, logMaxCount, logMaxAge }) =>
    new MemoryEngine({ clock, logMaxCount, logMaxAge, channelRetention: logMaxAge * 2 }),
);
