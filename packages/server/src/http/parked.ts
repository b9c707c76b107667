/**
 * A held response taken off node:http ("parked"), so that an idle comet recv costs its socket and
 * little else. While node:http holds a request it keeps, per connection, the HTTP parser (a C++
 * object of ~2 KB), the IncomingMessage and ServerResponse with their stream states, headers and
 * listener arrays, and eight bound socket listeners: about 5 KB per connection that a WebSocket
 * sheds at its upgrade (bench/README.md, "Where a held comet recv's memory goes"). A parked
 * response is the socket alone: node:http's listeners and parser are released as an upgrade
 * releases them, the response is written raw (the head node:http would have written, then the
 * body or chunks), and when the answer is complete the socket idles here until the client's next
 * request, which goes back to node:http (`'connection'`, documented for injecting sockets) with
 * the bytes already read.
 *
 * Only what node:http would have kept alive is parked: a complete GET over HTTP/1.1 on a plain TCP
 * socket (TLS and HTTP/1.0 stay with node:http), nothing pipelined behind it, nothing buffered
 * in the response, and node:http's socket wiring as this module knows it (checked by the
 * listeners' names; an unknown wiring keeps the request in node:http, which is always correct).
 * A request pipelined behind a parked one waits here and goes to node:http once the parked
 * response is complete, in order. (One case differs: a pipelined request of which node:http's
 * parser had already read a part when the held one was parked loses that part, and node:http
 * refuses the rest with 400. No browser or SDK pipelines; comet clients wait for each answer.)
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../util/clock.js';
import { Generations } from '../util/generations.js';
import { keepAlive, keptAliveDone, type KeptAlive } from './keep-alive.js';
import { headAndBody, responseHead, type SharedAnswer } from './raw-answer.js';

/** node:http's parser release: `freeParser(parser, req, socket)` (what an upgrade does with the parser). */
type FreeParser = (parser: unknown, req: unknown, socket: unknown) => void;

/** node:http's own parser release, checked to be there with its three parameters (an internal module). */
const freeParser = freeParserOf(requireUnknown('_http_common'));

function requireUnknown(id: string): unknown {
  const load: (id: string) => unknown = createRequire(import.meta.url);
  return load(id);
}

function freeParserOf(mod: unknown): FreeParser {
  const fn = typeof mod === 'object' && mod !== null && 'freeParser' in mod ? mod.freeParser : undefined;
  if (!isFreeParser(fn)) throw new Error("node:http's _http_common.freeParser(parser, req, socket) is missing");
  return fn;
}

function isFreeParser(fn: unknown): fn is FreeParser {
  return typeof fn === 'function' && fn.length === 3;
}

/** The listeners node:http puts on a server socket (event → function names), removed when parking. */
const HTTP_LISTENERS: Readonly<Record<string, readonly string[]>> = {
  close: ['bound socketOnClose', 'onServerResponseClose'],
  error: ['socketOnError'],
  drain: ['bound socketOnDrain'],
  data: ['bound socketOnData'],
  end: ['bound socketOnEnd'],
  timeout: ['socketOnTimeout'],
  resume: ['onSocketResume'],
  pause: ['onSocketPause'],
};

/** The framing line of a streamed response's head. */
const CHUNKED = 'Transfer-Encoding: chunked\r\n';
/** The chunk that ends a chunked body (no trailers). */
export const LAST_CHUNK = '0\r\n\r\n';

/** Bytes a client may send while its request is held (a pipelined request); more ends the socket. */
const MAX_PENDING_BYTES = 64 * 1024;

/** Told when a parked response's socket goes before the response was complete. */
export interface ParkOwner {
  parkedClosed(parked: ParkedResponse): void;
}

/**
 * Serves a client's next request on an idle parked socket without node:http when it can (a comet
 * client's next recv: http/recv-head.ts). `read` gets the bytes of one read; true: it took them
 * (and called `hold` if it holds the response), false: node:http gets them untouched.
 */
export interface NextRequestReader {
  read(parked: ParkedResponse, bytes: Buffer): boolean;
}

interface HttpParser {
  _consumed?: boolean;
  incoming?: unknown;
  unconsume(): void;
}

interface HttpSocket extends Socket {
  parser?: HttpParser | null;
  server?: Server;
  _httpMessage?: unknown;
}

/**
 * A parked socket's ParkedResponse, kept off the socket: a property on it (a symbol, as before) gave
 * parked sockets a map of their own, a fifth socket map after node:http's three (a new connection,
 * one serving a response, one kept alive after it) and a WebSocket's, which made the loads in node's
 * write path (`_unrefTimer`'s `s[kTimeout]`, `writeGeneric`'s `self[kHandle]`) megamorphic: V8 keeps
 * at most four maps inline (bench/README.md, "Comet streaming: a socket map fewer"). A parked socket
 * keeps the map node:http gave it.
 */
const parkedOf = new WeakMap<Socket, ParkedResponse>();

/** node:http's per-socket overrides of these methods (closures); Socket's own are on its prototype. */
const WRAPPED_METHODS = ['on', 'addListener', 'prependListener', 'setEncoding'] as const;

export class ParkedResponse implements KeptAlive {
  /** Header lines set on the response before it was parked (CORS, cookies), sent with the head. */
  private head: string;
  /** Holding a response (else idle until the client's next request). */
  private owner: ParkOwner | null;
  /** What the client sent meanwhile, for node:http. */
  private pending: Buffer | null = null;

  private constructor(
    readonly socket: HttpSocket,
    owner: ParkOwner,
    head: string,
    private readonly reader: NextRequestReader | undefined,
  ) {
    this.owner = owner;
    this.head = head;
  }

  /**
   * Takes `res` off node:http if it can be parked (module doc); the caller then writes through the
   * returned object only and drops `req` and `res`. Undefined: keep using `res`.
   */
  static take(
    req: IncomingMessage,
    res: ServerResponse,
    owner: ParkOwner,
    reader?: NextRequestReader,
  ): ParkedResponse | undefined {
    const socket = req.socket as HttpSocket;
    if (!parkable(req, res, socket)) return undefined;
    const head = res.headersSent ? '' : headerLines(res);
    const parser = socket.parser!;
    if (parser._consumed) {
      parser.unconsume();
      parser._consumed = false;
    }
    for (const event of Object.keys(HTTP_LISTENERS)) {
      for (const fn of socket.listeners(event))
        if (HTTP_LISTENERS[event]!.includes(fn.name)) socket.removeListener(event, fn as () => void);
    }
    res.detachSocket(socket);
    freeParser(parser, req, socket);
    // Assigned, not deleted: deleting a property would turn the socket into a slow (dictionary) object.
    for (const method of WRAPPED_METHODS)
      (socket as unknown as Record<string, unknown>)[method] = Socket.prototype[method];
    dropTimer(socket);
    // The client ending its side ends the socket (net does it): no HTTP connection is half-open.
    socket.allowHalfOpen = false;
    const parked = new ParkedResponse(socket, owner, head, reader);
    parkedOf.set(socket, parked);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    return parked;
  }

  /** The server still takes requests (a closing one ends idle sockets instead). */
  get serving(): boolean {
    return this.socket.server?.listening === true && !this.socket.destroyed;
  }

  /** A request read by the NextRequestReader: this response is held again, for `owner`. */
  hold(owner: ParkOwner): void {
    this.stopKeepAlive();
    this.owner = owner;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  /** Sends the head of a chunked response (what `writeHead` then `flushHeaders` would send). */
  openChunked(headers: readonly string[]): void {
    this.socket.write(responseHead(200, this.takeLines(), headers, this.keepAliveMs(), CHUNKED));
  }

  /** Raw bytes of an open chunked response (already framed as chunks). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Ends the open chunked response; the socket then waits for the client's next request. */
  endChunked(): void {
    this.socket.write(LAST_CHUNK);
    this.answered();
  }

  /**
   * Ends the open chunked response with `last`: its last chunk(s) followed by `LAST_CHUNK`, in one
   * write (a stream's last batch and its end: one system call, not two).
   */
  endChunkedWith(last: Buffer): void {
    this.socket.write(last);
    this.answered();
  }

  /** The whole response (flat header list as `writeHead` takes it, Content-Length included). */
  answer(status: number, headers: readonly string[], body: string | Buffer): void {
    // Head and body as one Buffer in one write (raw-answer.ts says why).
    this.socket.write(headAndBody(responseHead(status, this.takeLines(), headers, this.keepAliveMs(), ''), body));
    this.answered();
  }

  /** A whole response that other parked responses send too: the same bytes, one write. */
  answerShared(answer: SharedAnswer): void {
    this.socket.write(answer.bytes(this.takeLines(), this.keepAliveMs()));
    this.answered();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The header lines set before parking: sent with the first head only. */
  private takeLines(): string {
    const lines = this.head;
    this.head = '';
    return lines;
  }

  /** node:http's keep-alive timeout (what the Keep-Alive header says; 0: none). */
  private keepAliveMs(): number {
    return this.socket.server?.keepAliveTimeout ?? 0;
  }

  /** The response is complete: idle until the next request (as long as node:http's keep-alive would wait). */
  private answered(): void {
    this.owner = null;
    if (this.pending) return this.unpark();
    const server = this.socket.server;
    if (!server?.listening) return void this.socket.end();
    if (server.keepAliveTimeout > 0) keepAlive(this, server.keepAliveTimeout);
  }

  /** Idle past node:http's keep-alive timeout since answered (http/keep-alive.ts). */
  expire(): void {
    if (parkedOf.get(this.socket) === this && this.owner === null) this.socket.destroy();
  }

  /** Waiting for the client's next request no longer (it came, or the socket closed). */
  private stopKeepAlive(): void {
    if (this.owner === null) keptAliveDone(this, this.socket.server?.keepAliveTimeout ?? 0);
  }

  /** Hands the socket back to node:http with what the client sent since it was parked. */
  private unpark(): void {
    const socket = this.socket;
    const server = socket.server;
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    this.stopKeepAlive();
    parkedOf.delete(socket);
    socket.allowHalfOpen = true;
    const pending = this.pending;
    this.pending = null;
    if (!server?.listening || socket.destroyed) return void socket.destroy();
    server.emit('connection', socket);
    if (pending) socket.emit('data', pending);
  }

  /** The client sent bytes (its next request, or one pipelined behind the held one). */
  received(chunk: Buffer): void {
    // An idle socket's next request, in one read: served here if the reader takes it.
    if (this.owner === null && this.pending === null && this.reader?.read(this, chunk) === true) return;
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    if (!this.owner) this.unpark();
    else if (this.pending.length > MAX_PENDING_BYTES) this.socket.destroy();
  }

  /** The socket closed. */
  closed(): void {
    this.stopKeepAlive();
    const owner = this.owner;
    this.owner = null;
    this.pending = null;
    owner?.parkedClosed(this);
  }
}

// Socket listeners: shared functions (`this` is the socket), no closure per connection.
function onData(this: HttpSocket, chunk: Buffer): void {
  parkedOf.get(this)?.received(chunk);
}

function onError(this: HttpSocket): void {
  this.destroy();
}

function onClose(this: HttpSocket): void {
  parkedOf.get(this)?.closed();
}

/**
 * Clears the socket's idle timer and lets go of it: `setTimeout(0)` stops a timer but the socket
 * keeps it (and a bound function) as long as it lives.
 */
function dropTimer(socket: HttpSocket): void {
  if (socket.timeout) socket.setTimeout(0);
  const timer = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'timeout');
  if (timer !== undefined) (socket as unknown as Record<symbol, unknown>)[timer] = null;
}

function parkable(req: IncomingMessage, res: ServerResponse, socket: HttpSocket): boolean {
  const parser = socket.parser;
  return (
    socket instanceof Socket &&
    !('encrypted' in socket) &&
    !socket.destroyed &&
    socket.readableFlowing !== false &&
    socket.server !== undefined &&
    req.method === 'GET' &&
    req.httpVersion === '1.1' &&
    req.complete &&
    parser?.incoming === req &&
    socket._httpMessage === res &&
    !res.writableEnded &&
    res.shouldKeepAlive &&
    (!res.headersSent || res.chunkedEncoding) &&
    ((res as { outputData?: unknown[] }).outputData?.length ?? 1) === 0 &&
    knownWiring(socket)
  );
}

/** node:http's listeners are the ones this module removes, and nothing else listens for data. */
function knownWiring(socket: HttpSocket): boolean {
  const data = socket.listeners('data');
  return (
    data.length === 1 &&
    data[0]!.name === HTTP_LISTENERS.data![0] &&
    socket.listeners('close').some((fn) => fn.name === HTTP_LISTENERS.close![0])
  );
}

/** The header lines set on a response not yet sent (`name: value\r\n` each). */
function headerLines(res: ServerResponse): string {
  let lines = '';
  for (const name of (res as ServerResponse & { getRawHeaderNames(): string[] }).getRawHeaderNames()) {
    const value = res.getHeader(name);
    for (const v of Array.isArray(value) ? value : [value]) lines += `${name}: ${String(v)}\r\n`;
  }
  return lines;
}

const park = (item: Parkable): void => item.park();

/** Something holding a response that it parks once the response has been held a while. */
export interface Parkable {
  park(): void;
}

/**
 * Parks what has been held for at least one period, on one shared timer (no timer per request):
 * a poll answered within the period (a busy connection) never pays for parking and unparking.
 * Each firing parks the items added before the previous one.
 */
export class ParkingLot {
  private readonly items = new Generations<Parkable>();
  private timer: TimerHandle | undefined = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
  ) {}

  /** `item` holds a response now: it is asked to park after one to two periods. */
  add(item: Parkable): void {
    this.items.add(item);
    this.timer ??= this.clock.setTimeout(() => this.fire(), this.periodMs);
  }

  private fire(): void {
    this.timer = undefined;
    if (this.items.rotate(park)) this.timer = this.clock.setTimeout(() => this.fire(), this.periodMs);
  }
}
