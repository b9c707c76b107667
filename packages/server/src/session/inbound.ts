/**
 * The order a connection's messages are handled in. One at a time, in arrival order, with one
 * exception: consecutive publishes (MESSAGE) go to the engine without waiting for each other's
 * answers, up to PUBLISH_PIPELINE at once, so that a shared engine's round trips overlap instead of
 * adding up. Their ACKs and NACKs still go out in msgSerial order (an ACK completes every earlier
 * message in the SDK's queue, RTN7a). Anything else waits until the publishes before it have been
 * answered, so that, say, the DETACHED for a DETACH never overtakes the ACK of an earlier publish,
 * and a re-sent msgSerial finds the answer of the publish it repeats.
 *
 * The engine sees the publishes in arrival order (each call starts synchronously); a shared engine
 * keeps that order on its single command connection.
 *
 * A client that sends faster than the engine answers is slowed down, not dropped: once half of
 * `maxWaiting` messages wait, the handler stops reading the transport (the client's sends wait in
 * TCP), and reads again once a quarter are left. The bound itself stays as the last resort for what
 * was already read (one socket read can hold many frames).
 */
import { AblyError, Action, Err, PayloadError, isMutationAction } from '@encke/protocol';
import type { Inbound } from './port.js';

/** What sends a publish's ACK or NACK. */
export type SendAnswer = () => void;

/** Publishes of one connection that may be awaiting the engine at once. */
export const PUBLISH_PIPELINE = 64;

export interface InboundHandler {
  readonly closed: boolean;
  /** Bound on messages waiting to start (`maxInboundQueue`). */
  readonly maxWaiting: number;
  /** Handles anything but a publish; a promise holds every later message until it settles. */
  handle(pm: Inbound): Promise<void> | void;
  /**
   * Starts a publish now; returns what sends its answer (called in msgSerial order), or a promise of
   * it while the engine has not answered.
   */
  publish(pm: Inbound): SendAnswer | Promise<SendAnswer>;
  /** A message could not be handled: the connection fails. */
  failed(err: unknown, pm: Inbound): void;
  /** Nothing is waiting or under way: the handler may drop this queue (an idle connection keeps none). */
  idle(): void;
  /** Too much is waiting: stop taking messages from the client until `resume`. */
  pause(): void;
  resume(): void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A publish of new messages. An update, delete or append (like an annotation) reads the message it
 * changes first, so it is handled one at a time, in order, like anything else.
 */
export function isPublish(pm: Inbound): boolean {
  if (pm instanceof PayloadError) return pm.envelope.action === Action.MESSAGE;
  return pm.action === Action.MESSAGE && !isMutationAction(pm.messages?.[0]?.action);
}

/**
 * Starts `pm` (not a publish) for a connection with no queue: nothing waits and nothing is under
 * way, so it goes now, as the queue would start it. Returns what it must be waited for, if anything:
 * only then does the connection need a queue (`InboundQueue.holding`); an idle connection's ATTACH
 * with an engine that answers at once makes none (bench S3: three objects an open).
 */
export function startAlone(handler: InboundHandler, pm: Inbound): Promise<void> | undefined {
  try {
    return handler.handle(pm) ?? undefined;
  } catch (err) {
    handler.failed(err, pm);
    return undefined;
  }
}

/**
 * Starts publish `pm` when no earlier publish awaits its answer (a connection with no queue, or a
 * queue with none under way): an answer the engine gave at once is sent now, in the read that brought
 * the publish (the memory engine: no promise, no queue, bench S7). Returns the engine's pending
 * answer if it must be waited for: only then does the connection need a queue
 * (`InboundQueue.awaiting`).
 */
export function publishAlone(handler: InboundHandler, pm: Inbound): Promise<SendAnswer> | undefined {
  const answer = startOne(handler, pm);
  if (answer === undefined || answer instanceof Promise) return answer;
  try {
    answer();
  } catch (err) {
    handler.failed(err, pm);
  }
  return undefined;
}

/** `handler.publish(pm)`; undefined when it threw (the handler was told). */
function startOne(handler: InboundHandler, pm: Inbound): SendAnswer | Promise<SendAnswer> | undefined {
  try {
    return handler.publish(pm);
  } catch (err) {
    handler.failed(err, pm);
    return undefined;
  }
}

export class InboundQueue {
  /** Messages waiting to start; null when none. */
  private waiting: Inbound[] | null = null;
  /** A message other than a publish is being handled. */
  private busy = false;
  /** Publishes started and not yet answered. */
  private publishing = 0;
  /** Settles once every publish started so far has been answered. */
  private answered: Promise<void> = RESOLVED;
  /** The handler was told to stop reading. */
  private paused = false;

  constructor(private readonly handler: InboundHandler) {}

  /** A queue for a connection whose publish `pm` was started alone (`publishAlone`) and awaits `answer`. */
  static awaiting(handler: InboundHandler, answer: Promise<SendAnswer>, pm: Inbound): InboundQueue {
    const queue = new InboundQueue(handler);
    queue.inTurn(answer, pm);
    return queue;
  }

  /** A queue for a connection whose message `pm` was started alone (`startAlone`) and returned `pending`. */
  static holding(handler: InboundHandler, pending: Promise<void>, pm: Inbound): InboundQueue {
    const queue = new InboundQueue(handler);
    queue.wait(pending, pm);
    return queue;
  }

  receive(pm: Inbound): void {
    if (this.waiting !== null || !this.mayStart(pm)) {
      const waiting = (this.waiting ??= []);
      if (waiting.length >= this.handler.maxWaiting) {
        this.handler.failed(
          new AblyError(Err.rateLimited, `More than ${this.handler.maxWaiting} messages waiting to be processed`),
          pm,
        );
        return;
      }
      waiting.push(pm);
      if (!this.paused && waiting.length >= this.handler.maxWaiting / 2) {
        this.paused = true;
        this.handler.pause();
      }
      return;
    }
    this.start(pm);
    this.checkIdle();
  }

  /** Drops what is waiting (the connection is gone). */
  clear(): void {
    this.waiting = null;
  }

  private mayStart(pm: Inbound): boolean {
    if (this.busy) return false;
    return this.publishing === 0 || (this.publishing < PUBLISH_PIPELINE && isPublish(pm));
  }

  private start(pm: Inbound): void {
    if (isPublish(pm)) this.startPublish(pm);
    else this.startOther(pm);
  }

  private startPublish(pm: Inbound): void {
    if (this.publishing === 0) {
      const pending = publishAlone(this.handler, pm);
      if (pending) this.inTurn(pending, pm);
      return;
    }
    const answer = startOne(this.handler, pm);
    if (answer !== undefined) this.inTurn(answer, pm);
  }

  /** Sends `answer` once every earlier publish has been answered (msgSerial order). */
  private inTurn(answer: SendAnswer | Promise<SendAnswer>, pm: Inbound): void {
    this.publishing++;
    const turn = this.answered
      .then(() => answer)
      .then((send) => send())
      .catch((err: unknown) => this.handler.failed(err, pm));
    this.answered = turn;
    void turn.then(() => {
      this.publishing--;
      this.next();
      this.checkIdle();
    });
  }

  private startOther(pm: Inbound): void {
    const pending = startAlone(this.handler, pm);
    if (pending) this.wait(pending, pm);
  }

  /** Holds every later message until `pending` (what `pm` returned) settles. */
  private wait(pending: Promise<void>, pm: Inbound): void {
    this.busy = true;
    pending.then(
      () => this.done(),
      (err: unknown) => {
        this.handler.failed(err, pm);
        this.done();
      },
    );
  }

  private done(): void {
    this.busy = false;
    this.next();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (!this.busy && this.publishing === 0 && this.waiting === null) this.handler.idle();
  }

  /** Starts waiting messages while they may start. */
  private next(): void {
    while (this.waiting !== null && !this.handler.closed && this.mayStart(this.waiting[0]!)) {
      const pm = this.waiting.shift()!;
      if (this.waiting.length === 0) this.waiting = null;
      this.start(pm);
    }
    if (this.paused && (this.waiting?.length ?? 0) <= this.handler.maxWaiting / 4 && !this.handler.closed) {
      this.paused = false;
      this.handler.resume();
    }
  }
}
