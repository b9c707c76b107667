/**
 * V8's tier-up thresholds (packages/server/src/util/v8-tuning.ts): which flags `tuneV8` sets and when,
 * that they make V8 optimise a function in fewer calls (a child process with V8's optimisation status,
 * compiled synchronously: no timing), and that `encke serve` applies them and says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { tuneV8, V8_TUNING, V8_TUNING_ENV } from '@encke/server';
import { jsonObject } from '../helpers/json.js';
import { REPO, runEncke, spawnEncke } from '../helpers/process.js';

function flagsSet(env: Record<string, string | undefined>): { flags: readonly string[]; set: string[] } {
  const set: string[] = [];
  return { flags: tuneV8(env, (f) => set.push(f)), set };
}

describe('tuneV8', () => {
  it('sets the tuning unless ENCKE_V8_TUNING is off', () => {
    for (const value of [undefined, '', 'on']) {
      const { flags, set } = flagsSet({ [V8_TUNING_ENV]: value });
      assert.deepEqual(set, [...V8_TUNING], `ENCKE_V8_TUNING=${String(value)}`);
      assert.deepEqual(flags, V8_TUNING);
    }
    const off = flagsSet({ [V8_TUNING_ENV]: 'off' });
    assert.deepEqual(off.set, []);
    assert.deepEqual(off.flags, []);
    assert.ok(V8_TUNING.some((f) => f.startsWith('--interrupt-budget=')));
    assert.ok(V8_TUNING.some((f) => f.startsWith('--minimum-invocations-after-ic-update=')));
  });

  it('refuses any other value, setting nothing', () => {
    for (const value of ['yes', 'OFF', '0', '--jitless', 'x'.repeat(100)]) {
      const set: string[] = [];
      assert.throws(
        () => tuneV8({ [V8_TUNING_ENV]: value }, (f) => set.push(f)),
        (err: unknown) => err instanceof Error && /ENCKE_V8_TUNING must be "on" or "off"/.test(err.message),
        value,
      );
      assert.deepEqual(set, [], value);
    }
  });

  // A function with property loads, an allocation and branches, called N times in a child process;
  // V8 compiles synchronously there (--no-concurrent-recompilation), so its status after N calls is
  // exact. With V8's defaults it is still interpreted after 800 calls (baseline at ~1,500, optimised
  // at ~3,000 on node 20); tuned, it is optimised by ~500.
  const serverUrl = pathToFileURL(`${REPO}/packages/server/dist/index.js`).href;
  const script = `
    import { tuneV8 } from ${JSON.stringify(serverUrl)};
    tuneV8();
    function work(o, i) {
      let s = o.a + o.b * 3 + (o.c ?? 0);
      if (s > 10) s -= o.d; else s += o.d;
      const t = { x: s, y: o.a, z: String(o.b) };
      s += t.x + t.y + t.z.length;
      if (i % 3 === 0) s *= 2;
      return s + (o.e ? o.e.length : 0);
    }
    let acc = 0;
    for (let i = 0; i < 800; i++) acc += work({ a: i, b: 1, c: 2, d: 3, e: 'xy' }, i);
    const TURBOFANNED = 1 << 6;
    process.stdout.write(JSON.stringify({ optimised: (%GetOptimizationStatus(work) & TURBOFANNED) !== 0, acc }));
  `;

  function optimisedAfter800Calls(tuning: 'on' | 'off'): boolean {
    const r = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', script],
      { env: { ...process.env, [V8_TUNING_ENV]: tuning }, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const optimised = jsonObject(r.stdout).optimised;
    assert.equal(typeof optimised, 'boolean', r.stdout);
    return optimised === true;
  }

  it('makes V8 optimise a function in fewer calls', () => {
    assert.equal(optimisedAfter800Calls('off'), false, "V8's defaults: still not optimised after 800 calls");
    assert.equal(optimisedAfter800Calls('on'), true, 'tuned: optimised within 800 calls');
  });
});

describe('encke serve and the V8 tuning', () => {
  it('says in its banner which flags it set, or that it kept V8 defaults', async () => {
    const tuned = spawnEncke(['serve', '--port', '0', '--key', 'app.k:secret-secret']);
    const plain = spawnEncke(['serve', '--port', '0', '--key', 'app.k:secret-secret'], {
      env: { ...process.env, [V8_TUNING_ENV]: 'off' },
    });
    try {
      // (The banner is one write: all of it is there once its first line is.)
      await Promise.all([tuned.started(), plain.started()]);
      assert.match(tuned.stderr, new RegExp(`V8 tier-up tuned for a message server: ${V8_TUNING.join(' ')} `));
      assert.match(plain.stderr, /V8's default tier-up thresholds \(ENCKE_V8_TUNING=off\)/);
      assert.doesNotMatch(plain.stderr, /V8 tier-up tuned/);
    } finally {
      tuned.kill();
      plain.kill();
    }
  });

  it('refuses to start with a bad ENCKE_V8_TUNING, in one line', async () => {
    const r = await runEncke(['serve', '--port', '0'], { env: { ...process.env, [V8_TUNING_ENV]: 'sometimes' } });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'encke: ENCKE_V8_TUNING must be "on" or "off", not "sometimes"\n');
  });
});
