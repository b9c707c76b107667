import type { Session } from './session.js';

/** The sessions this node owns, connected or waiting for a resume, by connectionId. */
export class SessionRegistry {
  private readonly map = new Map<string, Session>();

  add(session: Session): void {
    this.map.set(session.id, session);
  }

  remove(session: Session): void {
    if (this.map.get(session.id) === session) this.map.delete(session.id);
  }

  get(connectionId: string): Session | undefined {
    return this.map.get(connectionId);
  }

  values(): IterableIterator<Session> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }
}
