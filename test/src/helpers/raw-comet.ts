/**
 * A protocol-level comet client: plain HTTP requests to `/comet/*` (docs/protocol.md "Comet"), so
 * tests can drive what no SDK would (msgpack bodies, GET sends, concurrent recvs, malformed bodies)
 * and see every status and header. With `autoRecv` it fetches continuously, as the SDK does.
 */
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { decodeMultiStream } from '@msgpack/msgpack';
import {
  Action,
  decodeFrame,
  encodeMsgpackValue,
  parseProtocolMessage,
  type ErrorInfo,
  type Format,
  type ProtocolMessage,
} from '@encke/protocol';
import { Inbox } from './inbox.js';
import { bodyErrorIfAny, jsonValue } from './json.js';
import { KEYS } from './server.js';

export const JSON_TYPE = 'application/json';
export const MSGPACK_TYPE = 'application/x-msgpack';

export interface CometResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The arrays of ProtocolMessages the body carried, in order: one per JSON line or msgpack array. */
  batches: ProtocolMessage[][];
  /** A body that was not an array, e.g. an HTTP error's `{"error": …}`. */
  body: unknown;
}

export interface CometRequestOptions {
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Called with each batch as it arrives (a stream delivers several before it ends). */
  onBatch?: (batch: ProtocolMessage[]) => void;
  agent?: Agent;
}

/** One comet HTTP request; resolves when the response has ended. */
export function cometRequest(port: number, path: string, options: CometRequestOptions = {}): Promise<CometResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        readResponse(res, options.onBatch).then(resolve, reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function readResponse(
  res: IncomingMessage,
  onBatch: ((batch: ProtocolMessage[]) => void) | undefined,
): Promise<CometResponse> {
  const result: CometResponse = { status: res.statusCode ?? 0, headers: res.headers, batches: [], body: undefined };
  const take = (value: unknown): void => {
    if (!Array.isArray(value)) {
      result.body = value;
      return;
    }
    const batch = value as ProtocolMessage[];
    result.batches.push(batch);
    onBatch?.(batch);
  };
  if (res.headers['content-type'] === MSGPACK_TYPE) {
    for await (const value of decodeMultiStream(res)) take(value);
    return result;
  }
  // Lines as they come ('data' with a typed listener: the stream's async iterator yields `any`).
  const decoder = new StringDecoder('utf8');
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    res.on('data', (chunk: Buffer) => {
      const lines = (pending + decoder.write(chunk)).split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim() !== '') take(jsonValue(line));
    });
    res.on('end', () => resolve());
    res.on('error', reject);
  });
  pending += decoder.end();
  if (pending.trim() !== '') take(jsonValue(pending));
  return result;
}

export interface CometConnectOptions {
  /** Default: the test app's full key. */
  key?: string;
  /** A token to authenticate with instead of a key (`access_token`). */
  token?: string;
  /** Body format, asked for with `Accept` (and used for sends). Default json. */
  format?: Format;
  /** Default true (stream mode). */
  stream?: boolean;
  /** Fetch continuously like the SDK (default true); false: call `recv()` yourself. */
  autoRecv?: boolean;
  /** Extra query params, starting with `&`. */
  query?: string;
}

export class RawCometClient extends Inbox {
  connectionId = '';
  connectionKey = '';
  /** Recv requests made, the connect request included. */
  recvCount = 0;
  /** The error of the response that stopped the recv loop, if it was an HTTP error. */
  lastError: ErrorInfo | undefined;
  private readonly agent = new Agent({ keepAlive: true });
  private looping = false;

  private constructor(
    readonly port: number,
    /** The auth query params every request carries. */
    readonly auth: string,
    readonly format: Format,
  ) {
    super();
  }

  /** Connects and waits for CONNECTED; rejects if the connect response brings anything else. */
  static async connect(port: number, options: CometConnectOptions = {}): Promise<RawCometClient> {
    const auth =
      options.token !== undefined
        ? `access_token=${encodeURIComponent(options.token)}`
        : `key=${encodeURIComponent(options.key ?? KEYS.full)}`;
    const client = new RawCometClient(port, auth, options.format ?? 'json');
    const query = `${client.auth}&heartbeats=true&v=6${options.stream === false ? '&stream=false' : ''}${options.query ?? ''}`;
    client.looping = options.autoRecv ?? true;
    client
      .fetch(`/comet/connect?${query}`)
      .then(() => client.loop())
      .catch(() => client.markClosed());
    const connected = await client.next(Action.CONNECTED, 5000);
    client.connectionId = connected.connectionId!;
    client.connectionKey = connected.connectionDetails!.connectionKey!;
    return client;
  }

  get accept(): string {
    return this.format === 'json' ? JSON_TYPE : MSGPACK_TYPE;
  }

  path(endpoint: string, query = ''): string {
    return `/comet/${this.connectionKey}/${endpoint}?${this.auth}${query}`;
  }

  /** One request of this client (its auth params added), bodies in its format. */
  request(endpoint: string, options: CometRequestOptions & { query?: string } = {}): Promise<CometResponse> {
    return cometRequest(this.port, this.path(endpoint, options.query), {
      agent: this.agent,
      ...options,
      headers: { accept: this.accept, ...options.headers },
    });
  }

  private async fetch(path: string): Promise<CometResponse> {
    this.recvCount++;
    const res = await cometRequest(this.port, path, {
      agent: this.agent,
      headers: { accept: this.accept },
      onBatch: (batch) => {
        for (const pm of batch) this.push(pm);
      },
    });
    const ending = res.batches
      .flat()
      .find((pm) => pm.action === Action.ERROR || pm.action === Action.DISCONNECTED || pm.action === Action.CLOSED);
    if (res.status >= 400 || ending) {
      this.lastError = bodyErrorIfAny(res.body) ?? ending?.error;
      this.looping = false;
      this.markClosed();
    }
    return res;
  }

  private async loop(): Promise<void> {
    while (this.looping) await this.fetch(this.path('recv'));
  }

  /** One recv (with `autoRecv: false`); what it brings is also added to the inbox. */
  recv(): Promise<CometResponse> {
    return this.fetch(this.path('recv'));
  }

  /** POSTs `messages` in this client's format (or `GET …/send?body=` with `method: 'GET'`). */
  send(messages: ProtocolMessage[], method: 'GET' | 'POST' = 'POST'): Promise<CometResponse> {
    if (method === 'GET')
      return this.request('send', { query: `&body=${encodeURIComponent(JSON.stringify(messages))}` });
    const body = this.format === 'json' ? JSON.stringify(messages) : Buffer.from(encodeMsgpackValue(messages));
    return this.request('send', { method: 'POST', body, headers: { 'content-type': this.accept } });
  }

  /** CLOSE: the server forgets the connection (a fetching client waits for CLOSED). */
  async close(): Promise<void> {
    const fetching = this.looping;
    await this.request('close');
    if (fetching) await this.waitClosed(2000).catch(() => {});
    this.drop();
  }

  /** Stops fetching and drops every socket without telling the server. */
  drop(): void {
    this.looping = false;
    this.agent.destroy();
  }
}

/**
 * The protocol messages of one JSON line of a comet response (an array of frames), decoded and
 * validated as the server validates a client's (fields only a server sends are left out).
 */
export function jsonLineMessages(line: string): ProtocolMessage[] {
  const decoded = decodeFrame(line, 'json');
  if (!Array.isArray(decoded)) throw new Error(`not a JSON array of frames: ${line.slice(0, 40)}`);
  return decoded.map((item: unknown) => parseProtocolMessage(item));
}
