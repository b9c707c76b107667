/**
 * The fuzz targets: each sends one generated input to the server through one entry point
 * (WebSocket frames and comet send bodies in JSON and msgpack, REST publish, batch publish,
 * requestToken with and without basic auth, sandbox `POST /apps`) and checks the invariants:
 *
 * - the server process is alive and has logged nothing at error level;
 * - every refusal is a documented ErrorInfo (a code of the registry with its HTTP status; never
 *   50000), on the wire and over HTTP;
 * - the connection that sent the input either goes on (a sentinel ATTACH is answered) or is
 *   ended with such an ErrorInfo: nothing hangs;
 * - another client (the watcher) keeps receiving (checked by `checkHealthy`).
 */
import assert from 'node:assert/strict';
import type fc from 'fast-check';
import { Action, Err, type ErrorInfo, type Format, type ProtocolMessage } from '@encke/protocol';
import { RawCometClient, JSON_TYPE, MSGPACK_TYPE } from '../helpers/raw-comet.js';
import { bodyErrorIfAny, isErrorFields, jsonObject } from '../helpers/json.js';
import { RawClient } from '../helpers/raw-ws.js';
import { KEYS } from '../helpers/server.js';
import {
  appDescription,
  batchBody,
  cometBody,
  encodeAny,
  inputFor,
  protocolMessage,
  restMessages,
  tokenBody,
} from './arbitraries.js';
import type { FuzzServer } from './harness.js';

/** The seed of the CI run (fixed, so a failure is reproducible). */
export const FUZZ_SEED = 20261206;

const INTERNAL_CODES = new Set([Err.internal.code, Err.internalChannel.code, Err.internalConnection.code]);
const STATUSES = new Map<number, Set<number>>();
for (const def of Object.values(Err)) {
  if (!STATUSES.has(def.code)) STATUSES.set(def.code, new Set());
  STATUSES.get(def.code)!.add(def.statusCode);
}

/** Asserts `error` is an ErrorInfo the registry documents, and not an internal error. */
export function assertDocumented(error: ErrorInfo | undefined, where: string): void {
  if (error === undefined) return;
  assert.equal(typeof error.message, 'string', `${where}: ErrorInfo without a message`);
  assert.ok(!INTERNAL_CODES.has(error.code), `${where}: internal error ${error.code}: ${error.message}`);
  const statuses = STATUSES.get(error.code);
  assert.ok(statuses, `${where}: undocumented code ${error.code}: ${error.message}`);
  assert.ok(statuses.has(error.statusCode), `${where}: code ${error.code} with status ${error.statusCode}`);
}

export interface Target {
  name: string;
  input: fc.Arbitrary<Buffer>;
  run(server: FuzzServer, input: Buffer): Promise<void>;
}

const SENTINEL = 'fuzz-sentinel';
/** The channel REST inputs publish to and frames name most; the watchers subscribe to it. */
export const FUZZ_CHANNEL = 'fuzz';
const WAIT_MS = 5000;

/** Waits until the sentinel ATTACH is answered or the connection is ended; every ErrorInfo seen is checked. */
async function settle(client: RawClient | RawCometClient, where: string): Promise<void> {
  try {
    await client.next(Action.ATTACHED, WAIT_MS, (pm) => pm.channel === SENTINEL);
  } catch (err) {
    if (!client.closed)
      throw new Error(
        `${where}: neither answered nor ended within ${WAIT_MS} ms (${(err as Error).message.slice(0, 300)})`,
      );
  }
  for (const pm of client.log) assertDocumented(pm.error, `${where} ${pm.action}`);
}

function wsTarget(format: Format): Target {
  return {
    name: `websocket ${format} frame`,
    input: inputFor(protocolMessage, format),
    async run(server, input) {
      const client = await RawClient.connect(server.port, KEYS.full, format, '&clientId=fuzzer');
      // Attached to the channel the inputs name most, so that what they publish is delivered back.
      client.send({ action: Action.ATTACH, channel: FUZZ_CHANNEL });
      await client.next(Action.ATTACHED);
      if (format === 'json') client.sendRaw(input.toString('utf8'), false);
      else client.sendRaw(input, true);
      if (!client.closed) client.send({ action: Action.ATTACH, channel: SENTINEL });
      await settle(client, this.name);
      client.close();
    },
  };
}

function cometTarget(format: Format): Target {
  return {
    name: `comet ${format} send`,
    input: inputFor(cometBody, format),
    async run(server, input) {
      const client = await RawCometClient.connect(server.port, { format, query: '&clientId=fuzzer' });
      try {
        const res = await client.request('send', {
          method: 'POST',
          body: input,
          headers: { 'content-type': format === 'json' ? JSON_TYPE : MSGPACK_TYPE },
        });
        if (res.status !== 204) assertDocumented(bodyErrorIfAny(res.body), `${this.name} HTTP ${res.status}`);
        if (!client.closed) await client.send([{ action: Action.ATTACH, channel: SENTINEL }]).catch(() => undefined);
        await settle(client, this.name);
      } finally {
        await client.close().catch(() => undefined);
      }
    },
  };
}

function restTarget(
  name: string,
  path: string,
  body: fc.Arbitrary<unknown>,
  format: Format,
  key: string | undefined,
): Target {
  return {
    name: `REST ${name} ${format}`,
    input: inputFor(body, format),
    async run(server, input) {
      const headers: Record<string, string> = { 'content-type': format === 'json' ? JSON_TYPE : MSGPACK_TYPE };
      if (key) headers.authorization = `Basic ${Buffer.from(key).toString('base64')}`;
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', headers, body: input });
      const text = await res.text();
      if (res.status < 300) return;
      assert.equal(
        res.headers.get('content-type'),
        JSON_TYPE,
        `${this.name}: error answered as ${res.headers.get('content-type')}`,
      );
      const error = jsonObject(text).error;
      assert.ok(isErrorFields(error), `${this.name}: HTTP ${res.status} without an ErrorInfo: ${text.slice(0, 300)}`);
      assert.equal(error.statusCode, res.status, `${this.name}: status ${res.status} for ${error.code}`);
      assertDocumented(error, `${this.name} HTTP ${res.status}`);
    },
  };
}

export const TARGETS: Target[] = [
  wsTarget('json'),
  wsTarget('msgpack'),
  cometTarget('json'),
  cometTarget('msgpack'),
  ...(['json', 'msgpack'] as Format[]).flatMap((f) => [
    restTarget('publish', '/channels/fuzz/messages', restMessages, f, KEYS.full),
    restTarget('batch publish', '/messages', batchBody, f, KEYS.full),
    restTarget('requestToken (signed)', '/keys/testapp.full/requestToken', tokenBody, f, undefined),
    restTarget('requestToken (basic)', '/keys/testapp.full/requestToken', tokenBody, f, KEYS.full),
    restTarget('sandbox POST /apps', '/apps', appDescription, f, undefined),
  ]),
];

/**
 * Clients that are not fuzzed, one per format, attached to the channel the inputs publish to (with
 * presence): they must keep receiving whatever the inputs did, and its history must stay readable
 * in both formats.
 */
export class Watcher {
  private count = 0;
  private constructor(
    private readonly server: FuzzServer,
    private readonly clients: RawClient[],
  ) {}

  static async start(server: FuzzServer): Promise<Watcher> {
    const clients = await Promise.all(
      (['msgpack', 'json'] as Format[]).map((f) => RawClient.connect(server.port, KEYS.full, f)),
    );
    for (const client of clients) {
      client.send({ action: Action.ATTACH, channel: FUZZ_CHANNEL });
      await client.next(Action.ATTACHED);
    }
    return new Watcher(server, clients);
  }

  /** The server is up, logged no error, the watchers still get a fresh message, history answers. */
  async checkHealthy(): Promise<void> {
    assert.ok(this.server.alive, this.server.crash);
    assert.deepEqual(this.server.errors, [], 'error-level log lines');
    const data = `watch-${++this.count}`;
    const auth = `Basic ${Buffer.from(KEYS.full).toString('base64')}`;
    const url = `http://127.0.0.1:${this.server.port}/channels/${FUZZ_CHANNEL}`;
    const res = await fetch(`${url}/messages`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': JSON_TYPE },
      body: encodeAny({ data }, 'json'),
    });
    assert.equal(res.status, 201);
    for (const client of this.clients) {
      assert.ok(!client.closed, 'a watcher was disconnected');
      const got: ProtocolMessage = await client.next(
        Action.MESSAGE,
        WAIT_MS,
        (pm) => pm.messages?.some((m) => m.data === data) ?? false,
      );
      assert.ok(got);
    }
    for (const accept of [JSON_TYPE, MSGPACK_TYPE]) {
      for (const path of ['/messages?limit=1000', '/presence', '/presence/history']) {
        const history = await fetch(`${url}${path}`, { headers: { authorization: auth, accept } });
        assert.equal(history.status, 200, `GET ${path} as ${accept}: ${await history.text()}`);
        await history.arrayBuffer().catch(() => undefined);
      }
    }
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}

/** Runs one input against a target, then the liveness checks every `every` inputs. */
export async function runOne(
  target: Target,
  server: FuzzServer,
  watcher: Watcher,
  input: Buffer,
  index: number,
  every = 25,
): Promise<void> {
  await target.run(server, input);
  assert.ok(server.alive, server.crash);
  if (index % every === 0) await watcher.checkHealthy();
}
