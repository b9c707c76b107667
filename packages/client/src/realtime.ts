/**
 * The client: `new Realtime(options)` → `connection`, `channels`, `auth`. The shapes follow ably-js
 * so code written for one runs on the other.
 */
import { Auth } from './auth/auth.js';
import type { TokenDetails, TokenParams } from './auth/types.js';
import { Channels } from './channel/channels.js';
import type { PageRequest } from './channel/paginated.js';
import { loadCodec } from './codec/codec.js';
import { Connection } from './connection/connection.js';
import { ConnectionManager } from './connection/manager.js';
import { Err, ErrorInfo } from './errors.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { platform, watchPage } from './platform.js';
import { getJson, type HttpContext } from './util/http.js';
import { kit } from './kit.js';

/** The auth API of a client (RSA). */
export class RealtimeAuth {
  constructor(
    private readonly inner: Auth,
    private readonly manager: ConnectionManager,
  ) {}

  /** The client's identity, as the server confirmed it once connected. */
  get clientId(): string | undefined {
    return this.inner.clientId;
  }

  get tokenDetails(): TokenDetails | undefined {
    return this.inner.tokenDetails;
  }

  /** Gets a new token now and, if connected, applies it in band (RTC8); resolves once the server accepted it. */
  async authorize(tokenParams?: TokenParams): Promise<TokenDetails> {
    const details = await this.inner.renew(tokenParams);
    if (this.manager.state !== 'connected') {
      this.manager.reauthorize(details.token);
      return details;
    }
    const outcome = this.manager.events.once(['update', 'failed', 'disconnected', 'suspended', 'closed']);
    this.manager.reauthorize(details.token);
    const change = await outcome;
    if (change.event !== 'update') throw change.reason ?? ErrorInfo.of(Err.connectionFailed);
    return details;
  }
}

export class Realtime {
  readonly options: ResolvedOptions;
  readonly connection: Connection;
  readonly channels: Channels;
  readonly auth: RealtimeAuth;
  private readonly manager: ConnectionManager;
  private readonly http: HttpContext;
  private readonly unwatch: () => void;

  constructor(options: ClientOptions | string) {
    const o = resolveOptions(options);
    const webSocket = o.webSocket ?? platform.webSocket;
    if (webSocket) o.webSocket = webSocket;
    if (!o.key && o.token === undefined && !o.authCallback && !o.authUrl) {
      throw ErrorInfo.of(Err.invalidCredentials, 'No authentication options: give key, token, authCallback or authUrl');
    }
    this.options = o;
    const baseUrl = `${o.tls ? 'https' : 'http'}://${o.host}:${o.port}`;
    this.http = { fetch: o.fetch ?? globalThis.fetch.bind(globalThis), clock: o.clock };
    const auth = new Auth(o, this.http, baseUrl);
    this.manager = new ConnectionManager(o, auth, this.http, () => loadCodec(o.format), baseUrl);
    const pages: PageRequest = { kit, http: this.http, header: () => auth.header(), timeoutMs: o.realtimeRequestTimeout };
    this.channels = new Channels(this.manager, pages);
    this.connection = new Connection(this.manager, () => this.channels.serials());
    this.auth = new RealtimeAuth(auth, this.manager);
    this.unwatch = watchPage({
      online: () => {
        if (this.manager.state === 'disconnected' || this.manager.state === 'suspended') this.manager.connect();
      },
      offline: () => {
        if (this.manager.state === 'connected' || this.manager.state === 'connecting') this.manager.drop(ErrorInfo.of(Err.disconnected, 'The browser went offline'));
      },
      unload: () => {
        if (o.closeOnUnload) this.close();
      },
    });
    // Deferred so that listeners registered right after construction see `connecting`.
    if (o.autoConnect) queueMicrotask(() => this.manager.state === 'initialized' && this.manager.connect());
  }

  connect(): void {
    this.manager.connect();
  }

  close(): void {
    this.manager.close();
    this.unwatch();
  }

  /** The server's time (`GET /time`). */
  async time(): Promise<number> {
    const { body } = await getJson(this.http, `${this.manager.baseUrl}/time`, { timeoutMs: this.options.realtimeRequestTimeout });
    return Array.isArray(body) && typeof body[0] === 'number' ? body[0] : Number.NaN;
  }
}
