/**
 * Connecting (RTN14): one attempt tries the transports in order (the configured or default list,
 * the one that last worked first, those that failed or stalled last), each up to its deadline;
 * a server refusal ends the attempt (renewing a token once when that is the reason), a transport
 * failure moves on to the next transport.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { Auth } from '../auth/auth.js';
import type { Codec } from '../codec/codec.js';
import { ErrorInfo, Err, isFatal, isTokenError } from '../errors.js';
import { kit } from '../kit.js';
import type { ResolvedOptions } from '../options.js';
import type { HttpContext } from '../util/http.js';
import { DEFAULT_ORDER, type Attempt } from '../transports/names.js';
import { loadTransport, type Transport, type TransportContext, type TransportModule } from '../transports/transport.js';
import { tryTransport, type LiveSink, type Outcome } from './attempt.js';
import { rememberedTransport, transportOrder } from './retry.js';

/** The protocol version spoken: ACK `res` (serials), channelSerial resume, no connectionSerial. */
export const PROTOCOL_VERSION = '5';

/** What the connector needs from the connection manager. */
export interface ConnectorHost {
  readonly options: ResolvedOptions;
  readonly auth: Auth;
  readonly baseUrl: string;
  readonly id: string | undefined;
  readonly key: string | undefined;
  /** The connectionKey of a recovery key, until the first connection. */
  readonly recoverKey: string | undefined;
  readonly live: LiveSink;
  activate(t: Transport, pm: ProtocolMessage): void;
  lost(err: ErrorInfo): void;
  fail(err: ErrorInfo): void;
}

export class Connector {
  /** Bumped to abandon an attempt under way (close, drop, a newer attempt). */
  generation = 0;
  /** The transport being tried, if any. */
  connecting: Transport | undefined;
  /** Transports that failed or stalled: tried last until one of them works again. */
  readonly demoted = new Set<string>();
  private codec: Codec | undefined;

  constructor(
    private readonly host: ConnectorHost,
    private readonly http: HttpContext,
    private readonly loadCodec: () => Promise<Codec>,
  ) {}

  start(): void {
    void this.attempt(++this.generation);
  }

  /** Abandons the attempt under way; returns its transport so the caller can drop it. */
  cancel(): Transport | undefined {
    this.generation++;
    const t = this.connecting;
    this.connecting = undefined;
    return t;
  }

  private async attempt(gen: number): Promise<void> {
    let renewed = false;
    let lastErr: ErrorInfo | undefined;
    let ctx: TransportContext;
    try {
      ctx = await this.context();
    } catch (err) {
      if (gen === this.generation) this.refused(ErrorInfo.from(err), renewed);
      return;
    }
    const order = this.order();
    for (let i = 0; i < order.length; i++) {
      const name = order[i]!;
      if (gen !== this.generation) return;
      const mod =
        (this.host.options.transportImplementations as Record<string, TransportModule> | undefined)?.[name] ??
        (await loadTransport(name).catch(() => undefined));
      if (gen !== this.generation) return;
      if (!mod?.supported(ctx)) continue;
      const deadline =
        i < order.length - 1 ? this.host.options.transportStallTimeout : this.host.options.realtimeRequestTimeout;
      const outcome: Outcome = await tryTransport(mod, ctx, deadline, this.host.live, (t) => (this.connecting = t));
      this.connecting = undefined;
      if (gen !== this.generation) {
        if (outcome.kind === 'connected') outcome.transport.disconnect();
        return;
      }
      if (outcome.kind === 'connected') return this.host.activate(outcome.transport, outcome.pm);
      const answered =
        outcome.kind === 'refused' || outcome.fatal || (outcome.err.code >= 40000 && outcome.err.code < 50000);
      if (!answered) {
        lastErr = outcome.err;
        this.demoted.add(name);
        continue;
      }
      if (isTokenError(outcome.err.code) && this.host.auth.canRenew && !renewed) {
        // RTN14b: one new token and one more try; a second token error leaves us disconnected.
        renewed = true;
        try {
          await this.host.auth.renew();
          ctx = await this.context();
        } catch (err) {
          if (gen === this.generation) this.refused(ErrorInfo.from(err), true);
          return;
        }
        if (gen !== this.generation) return;
        i--;
        continue;
      }
      if (outcome.kind === 'transport-failed' && outcome.fatal) return this.host.fail(outcome.err);
      return this.refused(outcome.err, renewed);
    }
    this.host.lost(lastErr ?? ErrorInfo.of(Err.connectionFailed, 'No transport could connect'));
  }

  /** The server (or the auth provider) said no: fail if final, else retry later. */
  private refused(err: ErrorInfo, renewed: boolean): void {
    if (isTokenError(err.code) && !this.host.auth.canRenew)
      return this.host.fail(ErrorInfo.of(Err.noTokenRenewal, undefined, err));
    if (isFatal(err) && !(isTokenError(err.code) && renewed)) return this.host.fail(err);
    this.host.lost(err);
  }

  private order(): Attempt[] {
    const o = this.host.options;
    // Tabs that share one connection: the link to it is the only way (a second connection would defeat it).
    if (o.shareConnection) return ['shared'];
    const remembered = o.rememberTransport && !o.transports ? rememberedTransport(`${o.host}:${o.port}`) : undefined;
    return transportOrder(o.transports ?? DEFAULT_ORDER, remembered, this.demoted);
  }

  private async context(): Promise<TransportContext> {
    this.codec ??= await this.loadCodec();
    const o = this.host.options;
    const params: Record<string, string> = {
      ...(await this.host.auth.queryParams()),
      format: this.codec.format,
      heartbeats: 'true',
      echo: String(o.echoMessages),
      v: PROTOCOL_VERSION,
    };
    if (o.clientId && this.host.auth.basic) params['clientId'] = o.clientId;
    if (this.host.key) params['resume'] = this.host.key;
    else if (this.host.recoverKey && !this.host.id) params['recover'] = this.host.recoverKey;
    for (const [k, v] of Object.entries(o.transportParams ?? {})) params[k] = String(v);
    return {
      kit,
      options: o,
      codec: this.codec,
      http: this.http,
      params,
      baseUrl: this.host.baseUrl,
      authParams: () => this.host.auth.params(),
    };
  }
}
