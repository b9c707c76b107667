/**
 * The hub's real connection: a client of its own made from a tab's options (leader tab), or from
 * the options the first tab sent (SharedWorker), never closed on unload (a successor continues it).
 */
import type { ConnectionManager } from '../connection/manager.js';
import type { Kit } from '../kit.js';
import type { ClientOptions, ResolvedOptions } from '../options.js';
import type { Realtime } from '../realtime.js';
import type { Upstream } from './hub.js';

export interface UpstreamClient {
  readonly manager: Upstream & Pick<ConnectionManager, 'createRecoveryKey'>;
  /** Drops the connection without closing it (so that the next hub can recover it) and stops. */
  stop(): void;
}

/**
 * The options of the shared connection. With basic auth it has no clientId of its own: each tab's
 * messages and presence carry the tab's (the server allows that to a key); with tokens it is the
 * token's, and tabs share it (or choose their own under a wildcard token).
 */
export function upstreamOptions(o: Partial<ResolvedOptions>, recover: string | undefined): ClientOptions {
  const out: ClientOptions & Record<string, unknown> = {
    ...o,
    tls: o.tls ?? false,
    useBinaryProtocol: o.format === 'msgpack',
    closeOnUnload: false,
    autoConnect: true,
    echoMessages: true,
  };
  for (const k of ['shareConnection', 'sharedWorkerUrl', 'recover', 'host', 'format']) delete out[k];
  if (o.host !== undefined) out.endpoint = o.host;
  if (o.port !== undefined) [out.port, out.tlsPort] = [o.port, o.port];
  if (recover) out.recover = recover;
  if (o.key && !o.useTokenAuth) delete out.clientId;
  return out;
}

/** Starts the shared connection with a Realtime constructor (imported by whoever hosts the hub). */
export function startUpstream(
  kit: Kit,
  Client: typeof Realtime,
  o: Partial<ResolvedOptions>,
  recover: string | undefined,
): UpstreamClient {
  const client = new Client(upstreamOptions(o, recover));
  const manager = client.connection as ConnectionManager;
  return {
    manager,
    stop() {
      manager.drop(kit.ErrorInfo.of(kit.Err.disconnected, 'The tab holding the shared connection went away'));
      client.close();
    },
  };
}
