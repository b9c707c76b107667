/**
 * The engine as the node's services see it: the same engine, with every channel-store operation
 * timed into the metrics (`encke_engine_operation_seconds{op}`, `encke_engine_errors_total{op}`).
 * The operation label is the method name: a fixed, small set.
 */
import type { Metrics } from '../metrics/metrics.js';
import type { ChannelStore } from './channel-store.js';
import type { Engine } from './engine.js';

export function instrumentEngine(engine: Engine, metrics: Metrics): Engine {
  const channels = timed(engine.channels, metrics);
  return {
    shared: engine.shared,
    channels,
    auth: engine.auth,
    connections: engine.connections,
    stats: engine.stats,
    apps: engine.apps,
    isReady: () => engine.isReady?.() ?? true,
    start: (events) => engine.start(events),
    close: () => engine.close(),
  };
}

/** A view of `store` whose async methods report their latency and failures. */
function timed(store: ChannelStore, metrics: Metrics): ChannelStore {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (!fn) wrapped.set(prop, (fn = timedMethod(target, value as (...args: unknown[]) => unknown, String(prop), metrics)));
      return fn;
    },
  });
}

function timedMethod(target: ChannelStore, method: (...args: unknown[]) => unknown, op: string, metrics: Metrics): (...args: unknown[]) => unknown {
  return (...args: unknown[]): unknown => {
    const start = performance.now();
    const result = method.apply(target, args);
    if (!(result instanceof Promise)) return result;
    return result.then(
      (value: unknown) => {
        metrics.engineOperation(op, (performance.now() - start) / 1000, false);
        return value;
      },
      (err: unknown) => {
        metrics.engineOperation(op, (performance.now() - start) / 1000, true);
        throw err;
      },
    );
  };
}
