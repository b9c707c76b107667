/**
 * The client: `new Realtime(options)` → `connection`, `channels`, `auth`. The shapes follow ably-js
 * so code written for one runs on the other.
 */
import { Auth } from './auth/auth.js';
import type { TokenDetails, TokenParams } from './auth/types.js';
import { Channels } from './channel/channels.js';
import type { PageRequest } from './channel/paginated.js';
import { loadCodec } from './codec/codec.js';
import type { Connection } from './connection/connection.js';
import { ConnectionManager } from './connection/manager.js';
import { Err, ErrorInfo } from './errors.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { platform, watchPage } from './platform.js';
import type { HttpContext } from './util/http.js';
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
    return (await import('./extras.js')).authorize(kit, this.inner, this.manager, tokenParams);
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
      throw ErrorInfo.of(Err.invalidCredentials, 'No key, token, authCallback or authUrl');
    }
    this.options = o;
    const baseUrl = `${o.tls ? 'https' : 'http'}://${o.host}:${o.port}`;
    this.http = { fetch: o.fetch ?? globalThis.fetch.bind(globalThis), clock: o.clock };
    const auth = new Auth(o, this.http, baseUrl);
    this.manager = new ConnectionManager(o, auth, this.http, () => loadCodec(o.format), baseUrl);
    const pages: PageRequest = {
      kit,
      http: this.http,
      header: () => auth.header(),
      timeoutMs: o.realtimeRequestTimeout,
    };
    this.channels = new Channels(this.manager, pages);
    this.connection = this.manager;
    this.auth = new RealtimeAuth(auth, this.manager);
    this.unwatch = watchPage({
      online: () => {
        if (this.manager.state === 'disconnected' || this.manager.state === 'suspended') this.manager.connect();
      },
      offline: () => {
        if (this.manager.state === 'connected' || this.manager.state === 'connecting')
          this.manager.drop(ErrorInfo.of(Err.disconnected, 'The browser went offline'));
      },
      pagehide: () => {
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
    return (await import('./extras.js')).time(
      kit,
      this.http,
      this.manager.baseUrl,
      this.options.realtimeRequestTimeout,
    );
  }
}

kit.late.Realtime = Realtime;
