/**
 * The engine as the node's services see it: the same engine, with every store operation timed into
 * the metrics (`encke_engine_operation_seconds{op}`, `encke_engine_errors_total{op}`). The operation
 * label is the method name for the channel store (`publish`), `<store>.<method>` for the others
 * (`auth.claimNonce`, `stats.add`, `apps.get`, `connections.claim`): a fixed, small set.
 *
 * Every open calls the channel store two or three times (subscribe, attachState, setOccupancy), so
 * the timing costs as little as it can (bench S3, callgrind: ~25k instructions an open before): each
 * store's view is a plain object with one wrapper per method, made once (no Proxy trap per property
 * read), and a wrapper hands the caller the store's own promise, observing it on the side, so an
 * `await` on an engine call takes no extra promise and no extra microtask. A store may answer at
 * once (not a promise: ChannelStore.attachState, subscribe); that is timed as it returns, and a
 * method that throws is counted as failed.
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

/** A store's method, called with the store as `this` and the caller's arguments. */
type Method = (this: object, ...args: unknown[]) => unknown;

function isMethod(value: unknown): value is Method {
  return typeof value === 'function';
}

/** `store[name]`, unknown until checked: any object can be read by name (no claim about what it holds). */
function property(store: object, name: string): unknown {
  return (store as { readonly [key: string]: unknown })[name];
}

/** The property names of `store`: its own and its classes' (not Object's). */
function propertyNames(store: object): Set<string> {
  const names = new Set<string>();
  for (let o: object | null = store; o !== null && o !== Object.prototype; o = Reflect.getPrototypeOf(o))
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor') names.add(name);
  return names;
}

/**
 * A view of `store` whose methods report their latency and failures, as `<prefix><method>`. A wrapper
 * looks the method up on `store` when called, so a method replaced on the store (a test's fault) is
 * the one called and timed. Anything else the store has is read from it.
 */
function timed<S extends object>(store: S, metrics: Metrics, prefix: string): S {
  const view: Record<string, unknown> = {};
  for (const name of propertyNames(store)) {
    if (isMethod(property(store, name))) view[name] = timedMethod(store, name, prefix + name, metrics);
    else Object.defineProperty(view, name, { get: () => property(store, name), enumerable: true });
  }
  // The view has the store's methods and properties, so it is an S to its callers.
  return view as S;
}

/**
 * The most arguments a store method takes (every method of every store type: checked at compile time
 * below). A timed call passes exactly that many on, with no rest array: `(...args)` and `apply` made
 * an array per engine call (~110 B), on every open and every publish. A method sees `undefined` for
 * an argument not given, as a default parameter does; no store reads `arguments`.
 */
type UpToFourArguments<F> = F extends (...args: infer A) => unknown
  ? A['length'] extends 0 | 1 | 2 | 3 | 4
    ? true
    : false
  : true;
/** The names of `T`'s methods that take more than four arguments (or a rest parameter): none, checked below. */
type TakingMore<T> = { [K in keyof T]-?: UpToFourArguments<T[K]> extends true ? never : K }[keyof T];
type TakingMoreInAnyStore =
  | TakingMore<Engine['channels']>
  | TakingMore<Engine['auth']>
  | TakingMore<NonNullable<Engine['connections']>>
  | TakingMore<Engine['stats']>
  | TakingMore<Engine['apps']>;
/** Fails to compile if a store method takes more than four arguments. */
const STORE_METHODS_TAKE_AT_MOST_FOUR: [TakingMoreInAnyStore] extends [never] ? true : never = true;
void STORE_METHODS_TAKE_AT_MOST_FOUR;

function timedMethod(
  store: object,
  name: string,
  op: string,
  metrics: Metrics,
): (a?: unknown, b?: unknown, c?: unknown, d?: unknown) => unknown {
  return (a?: unknown, b?: unknown, c?: unknown, d?: unknown): unknown => {
    const start = performance.now();
    const method = property(store, name);
    if (!isMethod(method)) throw new TypeError(`engine store has no method ${name}`);
    let result: unknown;
    try {
      result = method.call(store, a, b, c, d);
    } catch (err) {
      metrics.engineOperation(op, (performance.now() - start) / 1000, true);
      throw err;
    }
    if (!(result instanceof Promise)) {
      // Answered at once (the memory engine's attachState, subscribe): timed as it returns.
      metrics.engineOperation(op, (performance.now() - start) / 1000, false);
      return result;
    }
    // Observed on the side; the caller gets `result` itself and handles its rejection. This reaction is
    // registered first, so the operation is counted before the caller's own continuation runs.
    result.then(
      () => metrics.engineOperation(op, (performance.now() - start) / 1000, false),
      () => metrics.engineOperation(op, (performance.now() - start) / 1000, true),
    );
    return result;
  };
}
