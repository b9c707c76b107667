/**
 * Credentials for connections and REST requests (RSA): basic auth by key, or tokens from a fixed
 * token, an authCallback, an authUrl, or a TokenRequest signed with the key (`useTokenAuth`).
 * Tokens are renewed when the server says they are invalid (4014x), when it asks (AUTH), and
 * shortly before they expire.
 */
import { Err, ErrorInfo, isTokenError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { getJson, type HttpContext } from '../util/http.js';
import { randomId, toBase64, utf8Encode } from '../util/bytes.js';
import type { TokenDetails, TokenLike, TokenParams, TokenRequest } from './types.js';

/** Renew this long before a token expires (or at half its life if that is shorter). */
const RENEW_MARGIN_MS = 30_000;
const DEFAULT_TOKEN_TTL_MS = 60 * 60 * 1000;

export class Auth {
  /** The clientId the server confirmed for the connection, else the configured one. */
  clientId: string | undefined;
  tokenDetails: TokenDetails | undefined;
  private pending: Promise<TokenDetails> | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly http: HttpContext,
    private readonly baseUrl: () => string,
  ) {
    this.clientId = options.clientId;
    const t = options.token;
    if (t !== undefined) this.tokenDetails = typeof t === 'string' ? { token: t } : t;
  }

  /** Basic auth: a key and no reason to use tokens. */
  get basic(): boolean {
    const o = this.options;
    return !!o.key && !o.useTokenAuth && !o.authCallback && !o.authUrl && o.token === undefined;
  }

  /** Whether a new token can be had when the current one fails (RSA4a2: else 40171). */
  get canRenew(): boolean {
    const o = this.options;
    return !!(o.authCallback || o.authUrl || o.key);
  }

  /** Query params that authenticate a connection request. */
  async queryParams(): Promise<Record<string, string>> {
    if (this.basic) {
      const q: Record<string, string> = { key: this.options.key ?? '' };
      return q;
    }
    const token = await this.token();
    return { access_token: token.token };
  }

  /** The Authorization header of a REST request. */
  async header(): Promise<string> {
    if (this.basic) return `Basic ${toBase64(utf8Encode(this.options.key ?? ''))}`;
    return `Bearer ${toBase64(utf8Encode((await this.token()).token))}`;
  }

  /** The current token, or a new one when there is none or it has expired. */
  async token(): Promise<TokenDetails> {
    const t = this.tokenDetails;
    if (t && (t.expires === undefined || t.expires > this.options.clock.now())) return t;
    return this.renew();
  }

  /** A new token, whatever the current one (one request at a time). */
  renew(params?: TokenParams): Promise<TokenDetails> {
    if (!this.canRenew) {
      return Promise.reject(ErrorInfo.of(Err.noTokenRenewal, 'Token invalid or expired, and no means (key, authCallback or authUrl) to renew it'));
    }
    this.pending ??= this.fetchToken({ ...this.options.defaultTokenParams, ...params }).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** When to renew the current token in the background, in ms from now (undefined: never). */
  renewInMs(): number | undefined {
    const t = this.tokenDetails;
    if (this.basic || !this.canRenew || !t?.expires) return undefined;
    const left = t.expires - this.options.clock.now();
    return Math.max(0, left - Math.min(RENEW_MARGIN_MS, left / 2));
  }

  private async fetchToken(params: TokenParams): Promise<TokenDetails> {
    if (this.options.clientId && params.clientId === undefined) params.clientId = this.options.clientId;
    let result: TokenLike;
    try {
      result = await this.obtain(params);
    } catch (err) {
      const e = ErrorInfo.from(err, Err.authCallbackFailed);
      // RSA4c: a failing auth provider is 80019 (retriable) unless it answered a 403 (fatal, RSA4d).
      throw e.statusCode === 403 ? e : ErrorInfo.of(Err.authCallbackFailed, `Auth provider failed: ${e.message}`, e);
    }
    const details = await this.toDetails(result);
    this.tokenDetails = details;
    return details;
  }

  private obtain(params: TokenParams): Promise<TokenLike> {
    const o = this.options;
    if (o.authCallback) {
      const cb = o.authCallback;
      return new Promise<TokenLike>((resolve, reject) => {
        const done = (error: Error | string | null, value?: TokenLike | null): void => {
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else if (value === undefined || value === null) reject(new Error('authCallback gave no token'));
          else resolve(value);
        };
        const maybe = cb(params, done);
        if (maybe && typeof maybe.then === 'function') maybe.then((v) => done(null, v), (e: unknown) => done(e instanceof Error ? e : String(e)));
      });
    }
    if (o.authUrl) return this.fromAuthUrl(o.authUrl, params);
    return this.signTokenRequest(params);
  }

  private async fromAuthUrl(authUrl: string, params: TokenParams): Promise<TokenLike> {
    const o = this.options;
    const fields: Record<string, string> = { ...o.authParams };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) fields[k] = typeof v === 'string' ? v : JSON.stringify(v);
    const post = o.authMethod === 'POST';
    const url = post ? authUrl : withQuery(authUrl, fields);
    const headers: Record<string, string> = { ...o.authHeaders };
    if (post) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await this.http.fetch(url, { method: post ? 'POST' : 'GET', headers, ...(post ? { body: new URLSearchParams(fields).toString() } : {}) });
    const text = await res.text();
    if (!res.ok) throw new ErrorInfo(`authUrl answered ${res.status}: ${text.slice(0, 200)}`, Err.authCallbackFailed.code, res.status);
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('json')) return text.trim();
    return JSON.parse(text) as TokenLike;
  }

  /** Signs a TokenRequest with the key: HMAC-SHA256 over the fields, base64 (RSA9). */
  private async signTokenRequest(params: TokenParams): Promise<TokenRequest> {
    const key = this.options.key ?? '';
    const colon = key.indexOf(':');
    const keyName = key.slice(0, colon);
    const capability = params.capability ?? '';
    const req = {
      keyName,
      ttl: params.ttl ?? DEFAULT_TOKEN_TTL_MS,
      capability,
      clientId: params.clientId ?? '',
      timestamp: params.timestamp ?? this.options.clock.now(),
      nonce: params.nonce ?? randomId(16),
    };
    const text = `${keyName}\n${req.ttl}\n${capability}\n${req.clientId}\n${req.timestamp}\n${req.nonce}\n`;
    const hmacKey = await crypto.subtle.importKey('raw', utf8Encode(key.slice(colon + 1)), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, utf8Encode(text))));
    const out: TokenRequest = { keyName, ttl: req.ttl, timestamp: req.timestamp, nonce: req.nonce, mac };
    if (capability) out.capability = capability;
    if (req.clientId) out.clientId = req.clientId;
    return out;
  }

  private async toDetails(value: TokenLike): Promise<TokenDetails> {
    if (typeof value === 'string') return { token: value };
    if ('mac' in value) {
      const url = `${this.baseUrl()}/keys/${encodeURIComponent(value.keyName)}/requestToken`;
      const { body } = await getJson(this.http, url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(value),
        timeoutMs: this.options.realtimeRequestTimeout,
      });
      return body as TokenDetails;
    }
    if (typeof value.token !== 'string') throw ErrorInfo.of(Err.authCallbackFailed, 'Auth provider gave no token');
    return value;
  }
}

export function withQuery(url: string, params: Record<string, string>): string {
  const q = new URLSearchParams(params).toString();
  if (!q) return url;
  return url + (url.includes('?') ? '&' : '?') + q;
}

export { isTokenError };
