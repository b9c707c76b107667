/**
 * The SharedWorker that holds the connection the tabs of an origin share: bundle this module as a
 * worker script (`@encke/client/shared-worker`) and give its URL as `sharedWorkerUrl`. The first
 * tab's options start the connection; each tab's port is its link; the hub routes between them.
 */
import { kit } from '../kit.js';
import { Realtime } from '../realtime.js';
import { Hub } from './hub.js';
import { startUpstream } from './upstream.js';
import { isToHub, type TabPost, type ToHub } from './wire.js';

const ports = new Map<string, MessagePort>();
let hub: Hub | undefined;

const post: TabPost = (msg) => {
  if ('to' in msg) ports.get(msg.to)?.postMessage(msg);
  else for (const p of new Set(ports.values())) p.postMessage(msg);
};

function heard(port: MessagePort, m: ToHub): void {
  if (m.t === 'init') {
    hub ??= new Hub(kit, startUpstream(kit, Realtime, m.options, undefined).manager, post, kit.randomId(9));
    return;
  }
  ports.set(m.tab, port);
  hub?.receive(m);
  // A tab that closed its client is gone (its CLOSED has been posted): forget its port.
  if (m.t === 'pm' && m.pm.action === kit.Action.CLOSE) ports.delete(m.tab);
}

(globalThis as unknown as { onconnect: ((ev: MessageEvent) => void) | null }).onconnect = (ev) => {
  const port = ev.ports[0];
  if (!port) return;
  // Checked, not cast: any script of the origin can connect to this worker and post to it.
  port.onmessage = (e: MessageEvent<unknown>) => isToHub(e.data) && heard(port, e.data);
};
