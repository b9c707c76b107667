/**
 * What a stack's load-generator client must do. Every stack speaks its own protocol at the wire
 * level (no SDKs): thousands of subscribers live in one generator process.
 */
import type { Documents } from '../documents.js';
import type { Sink } from '../payload.js';

/** JSON.parse typed as what it is for text from a socket: a value to be checked before use. */
export { parseJson } from '@encke/protocol';

export interface ClientContext {
  port: number;
  sink: Sink;
  /**
   * Document mode (S8, stacks that support it): the publisher publishes these JSON documents, and
   * each subscriber decodes every message back into its document, checks it and counts its bytes.
   */
  documents?: Documents;
  /** A subscriber (or a publisher that reports it) lost its connection: the step or run is then not sustained. */
  lost(): void;
}

/** One subscriber connection. */
export interface Conn {
  close(): void;
}

/** The connection that publishes the load. */
export interface Pub {
  publish(channel: string, payload: string): void;
  /** Bytes not yet taken by the kernel: a growing number means the server does not keep up. */
  readonly backlog: number;
  close(): void;
}

export interface BenchClient {
  /** Opens a subscriber on `channels`; resolves once it is subscribed to all of them. */
  subscribe(channels: readonly string[]): Promise<Conn>;
  publisher(): Promise<Pub>;
  /**
   * Stacks with presence: opens a member of `channel` as `clientId`, entered and subscribed to the
   * channel's presence. Its `publish` updates the member's presence data with the payload.
   */
  member?(channel: string, clientId: string): Promise<Pub>;
}

/** A publisher on one connection that reports its socket's backlog. */
export function publisherOn(
  conn: { readonly buffered: number; close(): void },
  publish: (channel: string, payload: string) => void,
): Pub {
  return {
    publish,
    get backlog() {
      return conn.buffered;
    },
    close: () => conn.close(),
  };
}

/** Several publishers as one: each publish goes to the next in turn. */
export function roundRobin(pubs: readonly Pub[]): Pub {
  let next = 0;
  return {
    publish(channel, payload) {
      pubs[next]!.publish(channel, payload);
      next = (next + 1) % pubs.length;
    },
    get backlog() {
      return pubs.reduce((sum, p) => sum + p.backlog, 0);
    },
    close() {
      for (const p of pubs) p.close();
    },
  };
}

/**
 * A polling stack's client: its subscribers poll, its publisher is the stack's WebSocket one, so
 * that the polling stacks measure polling subscribers.
 */
export abstract class PollingClient implements BenchClient {
  constructor(
    protected readonly ctx: ClientContext,
    private readonly ws: BenchClient,
  ) {}

  abstract subscribe(channels: readonly string[]): Promise<Conn>;

  publisher(): Promise<Pub> {
    return this.ws.publisher();
  }
}

/**
 * A protocol step answered asynchronously: a promise with its resolve/reject, bounded in time by
 * `within` (one timer, cleared when the step settles). Each set-up step of every stack waits on one:
 * no Promise.race, no promise per bound (bench/README, `gen6`: S3's generator CPU per open).
 */
export class Waiter {
  readonly promise: Promise<void>;
  settled = false;
  private res!: () => void;
  private rej!: (err: Error) => void;
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    this.promise = new Promise<void>((res, rej) => {
      this.res = res;
      this.rej = rej;
    });
    // A step may fail after nobody waits for it any more (a connection closing at the end).
    this.promise.catch(() => undefined);
  }

  resolve(): void {
    this.settle();
    this.res();
  }

  reject(err: Error): void {
    this.settle();
    this.rej(err);
  }

  /** The step's promise, rejected when the step is not settled within `ms` (each protocol step is bounded in time). */
  within(ms: number, what: string): Promise<void> {
    if (!this.settled && this.timer === undefined)
      this.timer = setTimeout(() => this.reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    return this.promise;
  }

  private settle(): void {
    this.settled = true;
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export function waiter(): Waiter {
  return new Waiter();
}

/** Rejects when `promise` takes longer than `ms` (each protocol step is bounded in time); steps with a Waiter use its `within`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export const STEP_TIMEOUT_MS = 15_000;
