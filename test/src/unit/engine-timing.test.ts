/**
 * The engine's store calls, timed into the metrics (engine/instrumented.ts): each call is counted
 * under its operation label, a rejected one as an error too; the caller gets the store's own
 * promise (no extra promise, so no extra microtask per engine call on the open path, issue 19) and
 * the count is taken before the caller's continuation runs; an answer given at once (the memory
 * engine's attachState and subscribe) is timed as it returns, and a throw counted as failed; a
 * method replaced on the store after the view was made (a test's fault) is the one called and
 * timed; other properties read through; every argument a store method takes (four at most, checked when
 * the server compiles) reaches it, with no array made per call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from '@encke/server';
import { instrumentEngine, Metrics } from '@encke/server/internal';

/** A store as the engines make them: a class instance, methods on its prototype, a field of its own. */
class Store {
  readonly label = 'store';
  calls = 0;
  op(value: number): Promise<number> {
    this.calls++;
    return Promise.resolve(value);
  }
  sync(value: number): number {
    return value + 1;
  }
  /** As many arguments as a store method takes (four), the last with a default. */
  four(a: string, b: number, c?: string, d = 'default'): string {
    return `${this.label}:${a},${b},${c},${d}`;
  }
}

/** An engine of such stores (the instrumented view only reads these members). */
function timedEngine(): { stores: Record<'channels' | 'stats', Store>; engine: Engine; metrics: Metrics } {
  const stores = { channels: new Store(), stats: new Store() };
  const parts = { shared: false, auth: new Store(), apps: new Store(), ...stores };
  const untimed = {
    ...parts,
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
  } as unknown as Engine;
  const metrics = new Metrics();
  return { stores, engine: instrumentEngine(untimed, metrics), metrics };
}

/** A store of the timed engine, as the stores above. */
const timedStore = (engine: Engine, name: 'channels' | 'stats'): Store => engine[name] as unknown as Store;

const count = (metrics: Metrics, op: string): number => metrics.snapshot().engineOperations[op]?.count ?? 0;
const errors = (metrics: Metrics, op: string): number => metrics.snapshot().engineErrors[op] ?? 0;

describe('engine timing (instrumented engine)', () => {
  it('hands the caller the store’s own promise and counts the call before the caller continues', async () => {
    const { stores, engine, metrics } = timedEngine();
    const own = Promise.resolve(7);
    stores.channels.op = () => own;
    const returned = timedStore(engine, 'channels').op(1);
    assert.equal(returned, own, 'the same promise, not a derived one');
    assert.equal(await returned, 7);
    assert.equal(count(metrics, 'op'), 1, 'counted by the time the awaiting caller runs');
    assert.equal(errors(metrics, 'op'), 0);
  });

  it('labels each store’s operations and counts a rejection as an error, the caller seeing the rejection', async () => {
    const { stores, engine, metrics } = timedEngine();
    assert.equal(await timedStore(engine, 'stats').op(3), 3);
    assert.equal(stores.stats.calls, 1, 'called on the store itself');
    assert.equal(count(metrics, 'stats.op'), 1);
    stores.stats.op = () => Promise.reject(new Error('stats store down'));
    await assert.rejects(timedStore(engine, 'stats').op(3), /stats store down/);
    assert.equal(count(metrics, 'stats.op'), 2);
    assert.equal(errors(metrics, 'stats.op'), 1);
    assert.equal(count(metrics, 'op'), 0, 'the channel store has its own labels');
  });

  it('calls a method replaced after the view was made; times answers given at once and throws; reads fields through', () => {
    const { stores, engine, metrics } = timedEngine();
    const seen: number[] = [];
    stores.channels.op = (value: number) => {
      seen.push(value);
      return Promise.resolve(value);
    };
    void timedStore(engine, 'channels').op(5);
    assert.deepEqual(seen, [5]);
    assert.equal(timedStore(engine, 'channels').sync(1), 2);
    assert.equal(timedStore(engine, 'channels').label, 'store');
    stores.channels.calls = 41;
    assert.equal(timedStore(engine, 'channels').calls, 41, 'fields are read from the store');
    assert.equal(engine.shared, false);
    assert.equal(engine.isReady?.(), true);
    assert.equal(count(metrics, 'sync'), 1, 'an answer given at once is timed as it returns');
    stores.channels.sync = () => {
      throw new Error('channel store broke');
    };
    assert.throws(() => timedStore(engine, 'channels').sync(1), /channel store broke/);
    assert.equal(count(metrics, 'sync'), 2);
    assert.equal(errors(metrics, 'sync'), 1, 'a method that throws is counted as failed');
  });

  it('passes every argument a store method takes, with the store as this, and leaves defaults to the method', () => {
    const { engine, metrics } = timedEngine();
    const store = timedStore(engine, 'channels');
    assert.equal(store.four('a', 1, 'c', 'd'), 'store:a,1,c,d');
    assert.equal(store.four('a', 2), 'store:a,2,undefined,default');
    assert.equal(store.four('a', 3, undefined, 'last'), 'store:a,3,undefined,last');
    assert.equal(count(metrics, 'four'), 3);
  });
});
