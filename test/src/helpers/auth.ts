/**
 * A test "app backend" that hands out credentials the way real apps do: signed TokenRequests (made
 * with the official SDK's `createTokenRequest`) and Ably JWTs (made here with node:crypto, so the
 * server's JWT library is checked against an independent implementation), through an
 * `authCallback` or an `authUrl` served over HTTP.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as Ably from 'ably';
import { isErrorFields, jsonAs } from './json.js';

export interface TokenSpec {
  clientId?: string;
  /** Capability object; the key's capability when absent. */
  capability?: Record<string, string[]>;
  /** ms */
  ttl?: number;
}

function splitKey(key: string): { keyName: string; secret: string } {
  const colon = key.indexOf(':');
  return { keyName: key.slice(0, colon), secret: key.slice(colon + 1) };
}

const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An Ably JWT signed HS256 with the key's secret; `header` and `claims` override the defaults. */
export function makeJwt(
  key: string,
  spec: TokenSpec = {},
  overrides: { header?: Record<string, unknown>; claims?: Record<string, unknown>; now?: number } = {},
): string {
  const { keyName, secret } = splitKey(key);
  const now = Math.floor((overrides.now ?? Date.now()) / 1000);
  const header = { typ: 'JWT', alg: 'HS256', kid: keyName, ...overrides.header };
  const claims: Record<string, unknown> = {
    iat: now,
    exp: now + Math.ceil((spec.ttl ?? 3_600_000) / 1000),
    'x-ably-capability': JSON.stringify(spec.capability ?? { '*': ['*'] }),
    ...(spec.clientId !== undefined ? { 'x-ably-clientId': spec.clientId } : {}),
    ...overrides.claims,
  };
  const signed = `${b64url(header)}.${b64url(claims)}`;
  if (header.alg === 'none') return `${signed}.`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

/** A signed TokenRequest for `key`, made by the SDK without contacting any server. */
export function makeTokenRequest(key: string, spec: TokenSpec = {}): Promise<Ably.TokenRequest> {
  const rest = new Ably.Rest({ key, logLevel: 0, endpoint: '127.0.0.1', tls: false });
  const params: Ably.TokenParams = {};
  if (spec.clientId !== undefined) params.clientId = spec.clientId;
  if (spec.capability !== undefined) params.capability = JSON.stringify(spec.capability);
  if (spec.ttl !== undefined) params.ttl = spec.ttl;
  return rest.auth.createTokenRequest(params);
}

export type CredentialKind = 'tokenRequest' | 'jwt';

/**
 * The backend: its `spec` can change between calls (a downgrade, a ban), and it counts how often
 * the SDK asked. `authCallback()` and `authUrl` both serve it.
 */
export class TokenBackend {
  calls = 0;
  /** When set, the backend refuses (the SDK sees its auth provider fail). */
  refuse = false;
  /**
   * Tokens must count as issued at or after this time (ms), e.g. after a revocation. A JWT's `iat`
   * has whole seconds, so the backend waits for the next second before minting one.
   */
  notBefore = 0;
  private http: Server | undefined;

  constructor(
    readonly key: string,
    public spec: TokenSpec,
    readonly kind: CredentialKind,
  ) {}

  async credential(): Promise<Ably.TokenRequest | string> {
    this.calls++;
    if (this.refuse) throw new Error('backend refuses');
    if (this.kind === 'jwt')
      while (Math.floor(Date.now() / 1000) * 1000 < this.notBefore) await new Promise((r) => setTimeout(r, 50));
    return this.kind === 'jwt' ? makeJwt(this.key, this.spec) : makeTokenRequest(this.key, this.spec);
  }

  /** For `authCallback`. */
  readonly callback = (
    _params: Ably.TokenParams,
    cb: (err: Ably.ErrorInfo | string | null, result: Ably.TokenRequest | string | null) => void,
  ): void => {
    this.credential().then(
      (c) => cb(null, c),
      (err: Error) => cb(err.message, null),
    );
  };

  /** Starts serving the backend on `authUrl` (JSON TokenRequests, `application/jwt` JWTs). */
  async listen(): Promise<string> {
    this.http = createServer((_req, res) => {
      this.credential().then(
        (c) => {
          if (typeof c === 'string') res.writeHead(200, { 'Content-Type': 'application/jwt' }).end(c);
          else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(c));
        },
        () => res.writeHead(403, { 'Content-Type': 'text/plain' }).end('refused'),
      );
    });
    await new Promise<void>((resolve) => this.http!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/auth`;
  }

  async close(): Promise<void> {
    if (!this.http) return;
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http!.close(() => resolve()));
  }
}

/** What tests read from a REST answer: an error, TokenDetails, or a revocation result. */
export interface RestReply {
  error?: { code: number; statusCode: number; message: string };
  token?: string;
  clientId?: string;
  capability?: string;
  issued?: number;
  expires?: number;
  successCount?: number;
  failureCount?: number;
  results?: { appliesAt?: number; error?: { code: number } }[];
}

const optional = (v: unknown, type: 'string' | 'number'): boolean => v === undefined || typeof v === type;

/** A revocation result: its appliesAt, or its error. */
function isRevokeResult(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    optional(value.appliesAt, 'number') &&
    (value.error === undefined || isErrorFields(value.error))
  );
}

/** Whether a REST answer's fields that RestReply names have their types (where present). */
function isRestReply(value: unknown): value is RestReply {
  if (!isPlainObject(value)) return false;
  const { error, results } = value;
  return (
    (error === undefined || isErrorFields(error)) &&
    ['token', 'clientId', 'capability'].every((k) => optional(value[k], 'string')) &&
    ['issued', 'expires', 'successCount', 'failureCount'].every((k) => optional(value[k], 'number')) &&
    (results === undefined || (isArrayValue(results) && results.every(isRevokeResult)))
  );
}

/** POSTs a body to a REST path of the server and returns status and parsed JSON body. */
export async function postJson(
  port: number,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: RestReply | undefined; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? jsonAs(text, isRestReply, 'a REST reply') : undefined,
    headers: res.headers,
  };
}

export function basicAuth(key: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(key).toString('base64')}` };
}

/** Exchanges a signed TokenRequest for a token string over `POST /keys/:keyName/requestToken`. */
export async function fetchToken(port: number, key: string, spec: TokenSpec = {}): Promise<string> {
  const tr = await makeTokenRequest(key, spec);
  const res = await postJson(port, `/keys/${tr.keyName}/requestToken`, tr);
  if (res.status !== 200) throw new Error(`requestToken failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body!.token!;
}

export interface RawTokenRequest {
  keyName: string;
  ttl?: number;
  capability?: string;
  clientId?: string;
  timestamp: number;
  nonce: string;
  mac: string;
}

let nonceCounter = 0;

/** A TokenRequest signed here field by field (RSA9), so tests can sign what no SDK would. */
export function signTokenRequest(
  key: string,
  fields: Partial<Omit<RawTokenRequest, 'keyName' | 'mac'>> = {},
): RawTokenRequest {
  const { keyName, secret } = splitKey(key);
  const req: RawTokenRequest = {
    keyName,
    ...fields,
    timestamp: fields.timestamp ?? Date.now(),
    nonce: fields.nonce ?? `nonce-${Date.now()}-${++nonceCounter}-padding`,
    mac: '',
  };
  const text = `${keyName}\n${req.ttl ?? ''}\n${req.capability ?? ''}\n${req.clientId ?? ''}\n${req.timestamp}\n${req.nonce}\n`;
  req.mac = createHmac('sha256', secret).update(text).digest('base64');
  return req;
}
