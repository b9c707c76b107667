/**
 * A tiny typed event emitter with the ably-js shapes: `on(listener)`, `on(event, listener)`,
 * `on([events], listener)`, `once` (also as a promise), `off`.
 */
export type Listener<T> = (value: T) => void;

interface Entry<K, T> {
  events: readonly K[] | undefined;
  listener: Listener<T>;
  once: boolean;
}

export class Emitter<K extends string, T> {
  private entries: Entry<K, T>[] = [];

  on(listener: Listener<T>): void;
  on(events: K | readonly K[], listener: Listener<T>): void;
  /** Either form, for wrappers that pass their arguments on. */
  on(a: K | readonly K[] | Listener<T>, b?: Listener<T>): void;
  on(a: K | readonly K[] | Listener<T>, b?: Listener<T>): void {
    this.add(a, b, false);
  }

  once(listener: Listener<T>): void;
  once(events: K | readonly K[], listener: Listener<T>): void;
  once(events?: K | readonly K[]): Promise<T>;
  once(a?: K | readonly K[] | Listener<T>, b?: Listener<T>): void | Promise<T> {
    if (typeof a === 'function' || b) {
      this.add(a as K | Listener<T>, b, true);
      return;
    }
    return new Promise((resolve) => this.add(a ?? resolve, a === undefined ? undefined : resolve, true));
  }

  /** Without arguments removes every listener; with a listener, that one wherever it is registered. */
  off(listener?: Listener<T>): void;
  off(events: K | readonly K[], listener?: Listener<T>): void;
  off(a?: K | readonly K[] | Listener<T>, b?: Listener<T>): void;
  off(a?: K | readonly K[] | Listener<T>, b?: Listener<T>): void {
    const listener = typeof a === 'function' ? a : b;
    const events = a === undefined || typeof a === 'function' ? undefined : toList(a);
    // Removes a registration matching the listener (if given) and any of the events (if given).
    this.entries = this.entries.filter(
      (e) => (listener && e.listener !== listener) || (events && !e.events?.some((k) => events.includes(k))),
    );
  }

  /** Calls the listeners registered for `event` (and those for every event); a throwing listener does not stop the others. */
  emit(event: K, value: T): void {
    for (const e of this.entries.slice()) {
      if (e.events && !e.events.includes(event)) continue;
      if (e.once) this.entries = this.entries.filter((x) => x !== e);
      try {
        e.listener(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private add(a: K | readonly K[] | Listener<T>, b: Listener<T> | undefined, once: boolean): void {
    if (typeof a === 'function') this.entries.push({ events: undefined, listener: a, once });
    else if (b) this.entries.push({ events: toList(a), listener: b, once });
  }
}

function toList<K>(k: K | readonly K[]): readonly K[] {
  return Array.isArray(k) ? (k as readonly K[]) : [k as K];
}
