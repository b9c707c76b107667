/**
 * SIGTERM and SIGINT sent to what the README tells people to run (`npm start`, `npx encke` in the
 * clone, the bin itself) reach the server and drain it; nothing is left running. A signal goes to
 * the launched process alone (kill, systemd's main PID, docker stop) or, for Ctrl-C in a terminal,
 * to its whole process group. The installed binary and `npx encke` in an install: package.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertDrainsOn, DRAIN_KEY } from './helpers/drain.js';
import { BIN, REPO, spawnProcess, type EnckeProcess } from './helpers/process.js';

const SERVE_ARGS = ['--port', '0', '--key', DRAIN_KEY, '--log-format', 'json'];

const launchers: [string, () => EnckeProcess][] = [
  ['npm start', () => spawnProcess('npm', ['start', '--', ...SERVE_ARGS], { cwd: REPO, detached: true })],
  [
    'npx encke serve (in the clone)',
    () => spawnProcess('npx', ['encke', 'serve', ...SERVE_ARGS], { cwd: REPO, detached: true }),
  ],
  [
    'node packages/cli/bin/encke.js serve',
    () => spawnProcess(process.execPath, [BIN, 'serve', ...SERVE_ARGS], { cwd: REPO, detached: true }),
  ],
];

/** How each signal is sent: SIGTERM to the process, SIGINT to the process and as Ctrl-C does. */
const deliveries = [
  { signal: 'SIGTERM', to: 'process' },
  { signal: 'SIGINT', to: 'process' },
  { signal: 'SIGINT', to: 'group' },
] as const;

describe('signals reach the server and drain it', () => {
  for (const [name, launch] of launchers) {
    for (const { signal, to } of deliveries) {
      // npm runs `npx encke` in `sh -c`, which keeps a SIGINT sent to it alone; people send Ctrl-C.
      if (name.startsWith('npx') && signal === 'SIGINT' && to === 'process') continue;
      it(
        `${signal} to ${name} (${to === 'group' ? 'Ctrl-C: the process group' : 'the process'})`,
        { timeout: 120_000 },
        async () => {
          const exit = await assertDrainsOn(launch(), signal, to);
          assert.ok(exit.code === 0 || exit.signal === signal, `exit ${JSON.stringify(exit)}`);
        },
      );
    }
  }
});
