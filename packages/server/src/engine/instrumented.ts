/**
 * The engine as the node's services see it: the same engine, with every store operation timed into
 * the metrics (`encke_engine_operation_seconds{op}`, `encke_engine_errors_total{op}`). The operation
 * label is the method name for the channel store (`publish`), `<store>.<method>` for the others
 * (`auth.claimNonce`, `stats.add`, `apps.get`, `connections.claim`): a fixed, small set.
 */
import type { Metrics } from '../metrics/metrics.js';
import type { Engine } from './engine.js';

export function instrumentEngine(engine: Engine, metrics: Metrics): Engine {
  return {
    shared: engine.shared,
    channels: timed(engine.channels, metrics, ''),
    auth: timed(engine.auth, metrics, 'auth.'),
    connections: engine.connections && timed(engine.connections, metrics, 'connections.'),
    stats: timed(engine.stats, metrics, 'stats.'),
    apps: timed(engine.apps, metrics, 'apps.'),
    isReady: () => engine.isReady?.() ?? true,
    start: (events) => engine.start(events),
    close: () => engine.close(),
  };
}

/** A view of `store` whose async methods report their latency and failures, as `<prefix><method>`. */
function timed<S extends object>(store: S, metrics: Metrics, prefix: string): S {
  // Each method's wrapper, made once, and again if the method itself was replaced (a test's fault).
  const wrapped = new Map<PropertyKey, { method: unknown; fn: unknown }>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let w = wrapped.get(prop);
      if (w?.method !== value)
        wrapped.set(
          prop,
          (w = {
            method: value,
            fn: timedMethod(target, value as (...args: unknown[]) => unknown, prefix + String(prop), metrics),
          }),
        );
      return w.fn;
    },
  });
}

function timedMethod(
  target: object,
  method: (...args: unknown[]) => unknown,
  op: string,
  metrics: Metrics,
): (...args: unknown[]) => unknown {
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
