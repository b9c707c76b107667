/**
 * One SessionParams object for every connection of an API key that asks for the defaults. Basic
 * auth hands every connection of a key the same AuthContext (authenticate.ts), and most of them
 * connect with the same clientId, echo and remainPresentFor: they then share one params object
 * instead of each keeping its own (56 bytes a connection, bench S3). A session never changes its
 * params object; it replaces it (setAuth, resume), so sharing is safe.
 */
import type { AuthContext } from '../auth/authenticate.js';
import type { SessionParams } from './handle.js';

const byAuth = new WeakMap<AuthContext, SessionParams>();

/** `params`, or an equal object already in use. Token contexts are one per token: not kept. */
export function sharedParams(params: SessionParams): SessionParams {
  const auth = params.auth;
  if (auth.method !== 'basic') return params;
  const known = byAuth.get(auth);
  if (known === undefined) {
    byAuth.set(auth, params);
    return params;
  }
  const same =
    known.clientId === params.clientId &&
    known.echo === params.echo &&
    known.remainPresentFor === params.remainPresentFor;
  return same ? known : params;
}
