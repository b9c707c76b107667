/**
 * Operations few pages use, loaded on first call: ping (RTN13), the server's time, authorize()
 * (RTC8), and renewing a token before it expires (only clients with tokens load it). They take the
 * core's helpers as arguments and import only types.
 */
import type { IsArrayValue } from './util/unknown.js';
import type { Auth } from './auth/auth.js';
import type { TokenDetails, TokenParams } from './auth/types.js';
import type { ConnectionManager } from './connection/manager.js';
import type { Kit } from './kit.js';
import type { HttpContext } from './util/http.js';
import { getJson } from './util/json-request.js';

/** Round trip of a HEARTBEAT carrying an id, in ms. */
export function ping(kit: Kit, m: ConnectionManager): Promise<number> {
  if (m.state !== 'connected') return Promise.reject(m.stateError());
  const { clock, realtimeRequestTimeout } = m.options;
  const id = kit.randomId();
  const start = clock.now();
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      m.pings.delete(id);
      reject(kit.ErrorInfo.of(kit.Err.timeout, 'Ping timed out'));
    }, realtimeRequestTimeout);
    m.pings.set(id, () => {
      m.pings.delete(id);
      clock.clearTimeout(timer);
      resolve(clock.now() - start);
    });
    m.send({ action: kit.Action.HEARTBEAT, id });
  });
}

/** The server's time (`GET /time`). */
export async function time(kit: Kit, http: HttpContext, baseUrl: string, timeoutMs: number): Promise<number> {
  const { body } = await getJson(kit, http, `${baseUrl}/time`, { timeoutMs });
  return (Array.isArray as IsArrayValue)(body) && typeof body[0] === 'number' ? body[0] : Number.NaN;
}

/** Renew this long before a token expires (or at half its life if that is shorter). */
const RENEW_MARGIN_MS = 30_000;

/** Starts (or stops) the timer that renews the connection's token before it expires. */
export function scheduleRenewal(kit: Kit, m: ConnectionManager): void {
  const t = m.auth.tokenDetails;
  // This module loads asynchronously: the client may have been closed (or failed) meanwhile.
  if (!m.auth.canRenew || !t?.expires || ended(m)) return m.renewTimer.stop();
  const left = t.expires - m.options.clock.now();
  m.renewTimer.start(Math.max(0, left - Math.min(RENEW_MARGIN_MS, left / 2)), () => void renewAndReauth(kit, m));
}

/** A new token, applied in band (the server asked with AUTH, or the old one is about to expire). */
export async function renewAndReauth(kit: Kit, m: ConnectionManager): Promise<void> {
  try {
    m.reauthorize((await m.auth.renew()).token);
  } catch (err) {
    // A renewal that fails after close() (the auth server went with the app) must not revive the client.
    if (!ended(m)) m.lost(kit.ErrorInfo.from(err));
  }
}

/** Closed or failed: nothing is retried or renewed any more. */
function ended(m: ConnectionManager): boolean {
  return m.state === 'closed' || m.state === 'failed';
}

/** A new token now, applied in band when connected; resolves once the server accepted it. */
export async function authorize(
  kit: Kit,
  auth: Auth,
  m: ConnectionManager,
  params: TokenParams | undefined,
): Promise<TokenDetails> {
  const details = await auth.renew(params);
  if (m.state !== 'connected') {
    m.reauthorize(details.token);
    return details;
  }
  const outcome = m.once(['update', 'failed', 'disconnected', 'suspended', 'closed']);
  m.reauthorize(details.token);
  const change = await outcome;
  if (change.event !== 'update') throw change.reason ?? kit.ErrorInfo.of(kit.Err.connectionFailed);
  return details;
}
