/**
 * Finds a connection's Session from outside (tests whose server runs in this process): every session
 * that flushes is recorded by connection id while `Session.flush` is patched.
 */
import { Session } from '@encke/server/internal';

/** Records every session that flushes into `into` (by connection id); returns what undoes the patch. */
export function recordSessions(into: Map<string, Session>): () => void {
  const flush = Session.prototype.flush;
  Session.prototype.flush = function (this: Session): void {
    into.set(this.id, this);
    flush.call(this);
  };
  return () => {
    Session.prototype.flush = flush;
  };
}
