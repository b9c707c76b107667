/**
 * The session as its operation modules see it (dispatch.ts and what it calls, membership,
 * revocation): a `SessionHandle` with the node's services. A separate file from handle.ts because
 * the context (context.ts) holds the registry, which holds handles: one file for both would make
 * a cycle of types.
 */
import type { NodeContext } from '../context.js';
import type { SessionHandle } from './handle.js';

export interface SessionWithContext extends SessionHandle {
  readonly ctx: NodeContext;
}
