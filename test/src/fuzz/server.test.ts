/**
 * Fuzzing the running server (CI: fixed seed, bounded count). Every target of targets.ts gets
 * RUNS generated inputs; the server (a real `encke serve` child process) must survive them all,
 * refuse with documented ErrorInfos only, never hang a connection, log nothing at error level, and
 * keep serving the watcher. `npm run fuzz -- --minutes N` runs the same targets for longer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FuzzServer } from './harness.js';
import { FUZZ_SEED, TARGETS, Watcher, runOne } from './targets.js';

const RUNS = 40;
/** What the server may use at most after the whole run (RSS; it starts near 80 MB). */
const RSS_LIMIT = 512 * 1024 * 1024;

describe('fuzz: the server', () => {
  let server: FuzzServer;
  let watcher: Watcher;

  before(async () => {
    server = await FuzzServer.start();
    watcher = await Watcher.start(server);
  });
  after(async () => {
    watcher?.close();
    await server?.stop();
  });

  for (const target of TARGETS) {
    it(`${target.name}: ${RUNS} inputs, the server survives and refuses only with documented errors`, async () => {
      let index = 0;
      await fc.assert(
        fc.asyncProperty(target.input, (input) => runOne(target, server, watcher, input, ++index)),
        { seed: FUZZ_SEED, numRuns: RUNS, endOnFailure: true },
      );
      await watcher.checkHealthy();
    });
  }

  it('no unbounded growth', () => {
    const { rss } = server.memory();
    assert.ok(rss < RSS_LIMIT, `server RSS ${(rss / 1048576).toFixed(0)} MB`);
  });
});
