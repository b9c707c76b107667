/**
 * A tab's medium to a SharedWorker hub (shareConnection with `sharedWorkerUrl`): every tab of the
 * group connects to the same worker (same script URL and name), which holds the connection for as
 * long as any tab is open. The first tab's options start it; functions (authCallback, clock,
 * fetch) cannot be sent to a worker, so a client with authCallback elects a leader tab instead.
 */
import type { EntriesOf } from '../util/unknown.js';
import type { TransportContext } from '../transports/transport.js';
import type { Medium } from './medium.js';
import { groupName, isToTab, type ToHub, type ToTab } from './wire.js';

/** Options that cannot (or must not) go to the worker. */
const LOCAL_ONLY = new Set([
  'clock',
  'fetch',
  'webSocket',
  'authCallback',
  'transportImplementations',
  'shareConnection',
  'sharedWorkerUrl',
]);

export function workerMedium(ctx: TransportContext): Medium {
  const o = ctx.options;
  const worker = new SharedWorker(o.sharedWorkerUrl ?? '', { type: 'module', name: groupName(o) });
  const port = worker.port;
  const listeners = new Set<(m: ToTab) => void>();
  port.onmessage = (ev: MessageEvent<unknown>) => {
    const m = ev.data;
    if (isToTab(m)) for (const fn of [...listeners]) fn(m);
  };
  const options = Object.fromEntries(
    (Object.entries as EntriesOf)(o).filter(([k, v]) => !LOCAL_ONLY.has(k) && typeof v !== 'function'),
  );
  const post = (msg: ToHub): void => port.postMessage(msg);
  post({ t: 'init', options });
  return {
    tab: ctx.kit.randomId(9),
    post,
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    dispose: () => port.close(),
  };
}
