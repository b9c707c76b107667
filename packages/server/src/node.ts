/**
 * An encke node: one HTTP(S) port serving WebSocket upgrades on `/`, comet under `/comet/`, and
 * REST everywhere else, over the engine it is given. Wires apps, sessions, local channels and the
 * engine together; owns the heartbeat loop and graceful drain.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { AblyError, Err } from '@encke/protocol';
import { setupAdmin, type Admin } from './admin/setup.js';
import { buildApps } from './apps/config.js';
import { AppRegistry } from './apps/registry.js';
import { TokenService } from './auth/tokens.js';
import { LocalChannels } from './channels/local-channels.js';
import { MessageChanges } from './channels/message-changes.js';
import { ChannelPublisher, persistedRetention } from './channels/publisher.js';
import type { NodeContext } from './context.js';
import type { TokenRevocation } from './engine/auth-store.js';
import type { ChannelEvent, ChannelKey } from './engine/channel-store.js';
import { registerDemoRoutes } from './demo/routes.js';
import { createEngine } from './engine/create.js';
import type { Engine, EngineEvents } from './engine/engine.js';
import { registerHealthRoutes, type Readiness } from './http/health.js';
import { registerMetricsRoute } from './http/metrics-route.js';
import { instrumentEngine } from './engine/instrumented.js';
import { Metrics } from './metrics/metrics.js';
import { PrometheusExporter } from './metrics/prometheus.js';
import { countConnections } from './session/count.js';
import { answerPreflight, applyCors, sendError } from './http/respond.js';
import { RequestUrl, Router } from './http/router.js';
import { NodeInspector } from './inspect.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options.js';
import { registerRestRoutes } from './rest/routes.js';
import { ConnectionRecords } from './session/connection-records.js';
import { SessionRegistry } from './session/registry.js';
import type { SessionHandle } from './session/handle.js';
import { Session } from './session/session.js';
import { enforceRevocation } from './session/revocation.js';
import { StatsCounters } from './stats/counters.js';
import { registerCometRoutes } from './transports/comet/routes.js';
import { registerBadgeRoutes } from './transports/badge/routes.js';
import { registerEventStreamRoutes } from './transports/sse/routes.js';
import { acceptWebSocket, webSocketServer, type TransportServer } from './transports/websocket-server.js';
import type { TimerHandle } from './util/clock.js';
import { Faults } from './util/faults.js';
import { FlushScheduler, type Flushable } from './util/scheduler.js';
import { SlicedSweep, slicesFor } from './util/sliced-sweep.js';

/** The banner of sandbox mode: it must never be mistaken for a production setup. */
export const SANDBOX_WARNING =
  'SANDBOX MODE IS UNAUTHENTICATED: anyone who can reach this port can create apps (POST /apps) and get their keys. Use it for SDK test suites only.';

const HTTP_UNAUTHORIZED = 401;

/** What the engine tells this node, handed to where it belongs (`engine.start(events)`). */
class NodeEvents implements EngineEvents {
  constructor(private readonly ctx: NodeContext) {}

  onChannelEvent(key: ChannelKey, event: ChannelEvent): void {
    this.ctx.channels.onEvent(key, event);
  }

  onResync(): void {
    this.ctx.metrics.redisReconnected();
    this.ctx.channels.resync();
  }

  onRevocation(revocation: TokenRevocation): void {
    enforceRevocation(this.ctx, revocation);
  }

  /** Another node took a connection over: this node lets go of it (no presence leave, no record removal). */
  onTakeover(connectionId: string, newOwner: string): void {
    if (newOwner !== this.ctx.options.serverId) this.ctx.sessions.get(connectionId)?.relinquish();
  }
}

/** Builds the node's services around `engine` (timed into `metrics`). */
function buildContext(o: ResolvedOptions, untimed: Engine, metrics: Metrics): NodeContext {
  const engine = instrumentEngine(untimed, metrics);
  const apps = new AppRegistry(engine.apps);
  for (const app of buildApps(o.apps, o.keys)) apps.add(app);
  const faults = new Faults(o.logger, metrics);
  const stats = new StatsCounters(o.clock, engine.stats, o.logger);
  const scheduler = new FlushScheduler(
    (item, err) => flushFailed(faults, item, err),
    () => stats.settle(),
  );
  const records = new ConnectionRecords(engine.connections, o.serverId, o.connectionStateTtl, o.logger);
  return {
    options: o,
    clock: o.clock,
    logger: o.logger,
    engine,
    apps,
    channels: new LocalChannels(engine, scheduler, o.logger, o.serverId, { metrics, stats }, o.maxChannels, faults),
    publisher: new ChannelPublisher(o, o.clock, engine, stats, metrics, faults),
    changes: new MessageChanges(o, o.clock, engine, stats, metrics, persistedRetention(o)),
    sessions: new SessionRegistry(records),
    records,
    scheduler,
    stats,
    tokens: new TokenService({ apps, store: engine.auth, clock: o.clock, options: o }),
    faults,
    metrics,
  };
}

/**
 * An exception while writing one connection's frames ends that connection (ERROR 50000) and no
 * other; one while a channel hands out its events is logged (its subscribers catch up from the log
 * on their next attach). Both are counted faults.
 */
function flushFailed(faults: Faults, item: Flushable, err: unknown): void {
  if (!(item instanceof Session)) return faults.report('channel', err, {}, 'channel delivery failed: unexpected error');
  const failed = 'connection failed: unexpected error while writing to it';
  faults.report('connection', err, { connectionId: item.id }, failed);
  failSession(item, err);
}

/**
 * Ends a session after a fault with ERROR 50000; if even that fails (the transport, taken first,
 * throws again on the ERROR), drops its transport and forgets it.
 */
function failSession(session: SessionHandle, err: unknown): void {
  const transport = session.transport;
  try {
    session.fail(new AblyError(Err.internal, 'Internal error; the connection was closed', { cause: err }));
  } catch {
    transport?.terminate();
    session.dispose('failed');
  }
}

export class EnckeNode {
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  /** This node's metrics: `snapshot()` holds the numbers `GET /metrics` exports. */
  readonly metrics = new Metrics();
  /** What this node holds, for tests and operators. */
  readonly inspect: NodeInspector;
  private readonly ctx: NodeContext;
  private readonly http: Server | HttpsServer;
  private readonly wss: TransportServer;
  private readonly router = new Router();
  private heartbeat: TimerHandle | undefined;
  private statsFlush: TimerHandle | undefined;
  private closing = false;
  private draining = false;
  /** The admin dashboard (`adminPassword`), if on. */
  private readonly admin: Admin | undefined;
  /** Why the chat demo (`demo`) cannot be served, if it cannot. */
  private readonly demoProblem: string | undefined;

  constructor(options: ServerOptions = {}) {
    const o = resolveOptions(options);
    this.options = o;
    this.engine = createEngine(o);
    this.ctx = buildContext(o, this.engine, this.metrics);
    this.metrics.setConnectionCounter(() => countConnections(this.ctx.sessions.values()));
    this.wss = webSocketServer(o.maxFrameSize);
    registerHealthRoutes(this.router, o.serverId, () => this.readiness());
    registerMetricsRoute(this.router, new PrometheusExporter(this.metrics), o.metricsToken);
    this.inspect = new NodeInspector(this.ctx, registerCometRoutes(this.router, this.ctx));
    registerEventStreamRoutes(this.router, this.ctx);
    registerBadgeRoutes(this.router, this.ctx);
    registerRestRoutes(this.router, this.ctx);
    this.admin = setupAdmin(this.router, this.ctx);
    this.demoProblem = registerDemoRoutes(this.router, this.ctx);
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => this.onRequest(req, res);
    // With a certificate the one port serves HTTPS and WSS; plain HTTP is then refused by TLS itself.
    const head = { maxHeaderSize: o.maxHeaderSize };
    this.http =
      o.tlsCert !== undefined
        ? createHttpsServer({ cert: o.tlsCert, key: o.tlsKey, ...head }, onRequest)
        : createHttpServer(head, onRequest);
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => refuseMalformed(err, socket));
  }

  get apps(): AppRegistry {
    return this.ctx.apps;
  }

  /** Issues and verifies this node's tokens. */
  get tokens(): TokenService {
    return this.ctx.tokens;
  }

  /** Starts listening; resolves with the bound address (use port 0 for a free port). */
  async listen(): Promise<AddressInfo> {
    await this.engine.start(new NodeEvents(this.ctx));
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    // Each connection is visited once a heartbeatInterval, a slice of them at a time (sliced-sweep.ts).
    const sweep = new SlicedSweep(this.ctx.sessions, slicesFor(this.options.heartbeatInterval), (session) =>
      this.tick(session),
    );
    this.heartbeat = this.ctx.clock.setInterval(() => sweep.step(), this.options.heartbeatInterval / sweep.slices);
    this.statsFlush = this.ctx.clock.setInterval(() => void this.ctx.stats.flush(), this.options.statsFlushInterval);
    const address = this.http.address() as AddressInfo;
    await this.engine.connections?.advertise(this.options.advertiseUrl ?? this.listenUrl(address));
    this.ctx.logger.info(
      {
        host: address.address,
        port: address.port,
        tls: this.options.tlsCert !== undefined,
        serverId: this.options.serverId,
      },
      'encke listening',
    );
    if (this.options.sandbox) this.ctx.logger.warn({ host: address.address, port: address.port }, SANDBOX_WARNING);
    this.admin?.publisher.start();
    if (this.admin?.problem)
      this.ctx.logger.warn({ problem: this.admin.problem }, 'the admin dashboard page cannot be served');
    if (this.demoProblem) this.ctx.logger.warn({ problem: this.demoProblem }, 'the chat demo cannot be served');
    return address;
  }

  /** This node's URL as other nodes on the network reach it. */
  private listenUrl(address: AddressInfo): string {
    const scheme = this.options.tlsCert !== undefined ? 'https' : 'http';
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    const host = wildcard ? hostname() : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${scheme}://${host}:${address.port}`;
  }

  get address(): AddressInfo | undefined {
    return (this.http.address() as AddressInfo | null) ?? undefined;
  }

  /** One connection's heartbeat visit: pings, HEARTBEATs and the idle check are its transport's. */
  private tick(session: SessionHandle): void {
    const now = this.ctx.clock.now();
    try {
      session.tick(now);
    } catch (err) {
      this.ctx.faults.report(
        'timer',
        err,
        { connectionId: session.id },
        'connection failed: unexpected error in its heartbeat tick',
      );
      failSession(session, err);
    }
  }

  /** Faults the last resort caught (counted by kind; a metrics exporter's hook). */
  get faults(): Faults {
    return this.ctx.faults;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // The path and query only (a full URL parse costs more than the rest of the routing).
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    if (this.closing || path !== '/') {
      socket.end(
        `HTTP/1.1 ${this.closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    acceptWebSocket(this.ctx, this.wss, req, socket, head, q < 0 ? '' : target.slice(q + 1));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const url = new RequestUrl(req.url ?? '/');
    const preflight = method === 'OPTIONS';
    const cors = this.router.allowsCors(
      preflight ? String(req.headers['access-control-request-method'] ?? '') : method,
      url.pathname,
    );
    if (preflight) return cors ? answerPreflight(req, res) : void res.writeHead(204).end();
    if (cors) applyCors(req, res);
    const secure = 'encrypted' in req.socket && req.socket.encrypted === true;
    let result: void | Promise<void>;
    try {
      const match = this.router.match(method, url.pathname);
      if (!match) throw new AblyError(Err.notFound, `No such endpoint: ${method} ${url.pathname}`);
      result = match.handler({ req, res, method, url, params: match.params, secure });
    } catch (err) {
      return this.requestFailed(res, err);
    }
    if (result) result.catch((err: unknown) => this.requestFailed(res, err));
  }

  private requestFailed(res: ServerResponse, err: unknown): void {
    const e = AblyError.from(err);
    this.ctx.metrics.errorSent(e.code);
    // A refusal is the client's business (debug); only the server's own failures are errors.
    if (e.statusCode >= 500) this.ctx.logger.error({ err }, 'request failed');
    else if (e.statusCode === HTTP_UNAUTHORIZED) {
      // The code and reason only: the request's path and query may hold keys or tokens.
      this.ctx.metrics.authFailed(e.code);
      this.ctx.logger.warn(
        { code: e.code, statusCode: e.statusCode, reason: e.message },
        'request refused: credentials',
      );
    } else if (this.ctx.logger.isLevelEnabled('debug'))
      this.ctx.logger.debug({ code: e.code, message: e.message }, 'request refused');
    sendError(res, e);
  }

  /** What `GET /ready` answers: ready unless draining or the engine lost its shared state. */
  readiness(): Readiness {
    const engine = this.engine.isReady?.() ?? true;
    return { ready: engine && !this.draining, draining: this.draining, engine };
  }

  /**
   * Marks the node as draining (`/ready` answers 503) while it still serves everything, so that a
   * load balancer stops sending it new connections before `drain()` closes the listener.
   */
  startDraining(): void {
    this.draining = true;
  }

  /**
   * Graceful drain (SIGTERM): stop accepting, tell every client DISCONNECTED so that it resumes on
   * another node, and wait (up to `timeoutMs`) for the sockets to go.
   */
  async drain(timeoutMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = this.draining = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const err = new AblyError(Err.disconnected, 'Server is shutting down; reconnect');
    for (const session of [...this.ctx.sessions.values()]) session.disconnect(err);
    this.ctx.scheduler.run();
    this.http.closeIdleConnections();
    const timer = setTimeout(() => this.http.closeAllConnections(), timeoutMs);
    await closed;
    clearTimeout(timer);
    await this.shutdownState();
  }

  /** Immediate stop: every connection is dropped, state is discarded. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      for (const session of [...this.ctx.sessions.values()]) {
        // Upgraded sockets are no longer the HTTP server's to close: each transport goes itself.
        session.transport?.terminate();
        session.dispose('shutdown');
      }
      const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.http.closeAllConnections();
      await closed;
    }
    await this.shutdownState();
  }

  private async shutdownState(): Promise<void> {
    this.admin?.publisher.stop();
    this.ctx.clock.clearInterval(this.heartbeat);
    this.ctx.clock.clearInterval(this.statsFlush);
    this.heartbeat = this.statsFlush = undefined;
    for (const session of [...this.ctx.sessions.values()]) session.dispose('shutdown');
    await this.ctx.stats.flush();
    await this.engine.close();
  }
}

/**
 * A request HTTP itself cannot parse. A head over `maxHeaderSize` (a script-tag send whose message
 * does not fit in a URL) is told so with 431 before the socket goes; anything else is dropped.
 */
function refuseMalformed(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'HPE_HEADER_OVERFLOW' && socket.writable) {
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    // Read what the client is still sending, so that closing does not reset the answer away.
    socket.resume();
    setTimeout(() => socket.destroy(), 1000).unref();
    return;
  }
  socket.destroy();
}

/** Creates a node; call `listen()` to start it. */
export function createServer(options: ServerOptions = {}): EnckeNode {
  return new EnckeNode(options);
}
