/**
 * Connection query parameters (protocol fact sheet §1.2), shared by the WebSocket and comet
 * transports. ably-js sends: key | access_token, resume | recover, clientId, echo, format,
 * heartbeats, v, agent, then any transportParams (e.g. remainPresentFor).
 */
import { AblyError, Err, MIN_PROTOCOL_VERSION, type Format } from '@encke/protocol';
import type { Credentials } from '../auth/authenticate.js';
import { credentialsFromQuery } from '../auth/credentials.js';
import type { QueryParams } from '../http/query-params.js';

export interface ConnectParams {
  credentials: Credentials | undefined;
  clientId: string | undefined;
  /** False when the client asked not to receive its own messages. */
  echo: boolean;
  /** True when the client wants HEARTBEAT messages (browsers, comet); false when it sees WS pings. */
  heartbeats: boolean;
  format: Format;
  resume: string | undefined;
  recover: string | undefined;
  /** ably-js 1.x: this transport upgrades the connection of this key (session/upgrade.ts). */
  upgrade: string | undefined;
  version: number | undefined;
  /** ms a member stays present after its transport drops (presence). */
  remainPresentFor: number | undefined;
  agent: string | undefined;
  /** The connection arrived over TLS (an app with `tlsOnly` refuses others). */
  secure: boolean;
  /** The web origin of the page that opened it, if any (an app with `allowedOrigins` refuses others). */
  origin: string | undefined;
}

function bool(value: string | null, name: string, fallback: boolean): boolean {
  if (value === null) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new AblyError(Err.invalidParameterValue, `Invalid ${name} ${JSON.stringify(value)}: expected true or false`);
}

export function parseConnectParams(query: QueryParams, secure = false, origin?: string): ConnectParams {
  const format = query.get('format') ?? 'json';
  if (format !== 'json' && format !== 'msgpack') {
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid format ${JSON.stringify(format)}: expected json or msgpack`,
    );
  }
  const v = query.get('v');
  let version: number | undefined;
  if (v !== null) {
    version = Number(v);
    // Versions newer than the newest known are accepted: newer ably-js releases must not be locked out.
    if (!Number.isFinite(version) || version < MIN_PROTOCOL_VERSION) {
      throw new AblyError(Err.unsupportedProtocolVersion, `Unsupported protocol version ${JSON.stringify(v)}`);
    }
  }
  const rpf = query.get('remainPresentFor');
  let remainPresentFor: number | undefined;
  if (rpf !== null) {
    remainPresentFor = Number(rpf);
    if (!Number.isSafeInteger(remainPresentFor) || remainPresentFor < 0) {
      throw new AblyError(Err.invalidParameterValue, `Invalid remainPresentFor ${JSON.stringify(rpf)}`);
    }
  }
  return {
    credentials: credentialsFromQuery(query),
    clientId: query.get('clientId') ?? query.get('client_id') ?? undefined,
    echo: bool(query.get('echo'), 'echo', true),
    heartbeats: bool(query.get('heartbeats'), 'heartbeats', true),
    // The constant, not the query's copy of it: the transport keeps it for the connection's life.
    format: format === 'msgpack' ? 'msgpack' : 'json',
    resume: query.get('resume') ?? undefined,
    recover: query.get('recover') ?? undefined,
    upgrade: query.get('upgrade') ?? undefined,
    version,
    remainPresentFor,
    agent: query.get('agent') ?? undefined,
    secure,
    origin,
  };
}
