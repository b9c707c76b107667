/**
 * The smaller items of issue 12 (8): a request body the client aborts is its own doing (never an
 * error-level 500); JWTs are held to `maxTokenTtl` like TokenRequests; a JWT issued far in the
 * future is refused.
 */
import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Action, Err } from '@encke/protocol';
import { eventually } from '../helpers/ably.js';
import { makeJwt } from '../helpers/auth.js';
import { RecordingLogger } from '../helpers/logs.js';
import { RawCometClient } from '../helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';
import { responseError } from '../helpers/json.js';

const MAX_TOKEN_TTL = 3_600_000;
const SKEW = 60_000;

describe('smaller items (issue 12, item 8)', () => {
  let ts: TestServer;
  const logger = new RecordingLogger();

  before(async () => {
    ts = await startServer({ logger, maxTokenTtl: MAX_TOKEN_TTL, tokenRequestWindow: SKEW });
  });
  after(async () => {
    await ts.close();
  });

  const withJwt = (jwt: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${ts.port}/channels/jwt/messages`, {
      headers: { authorization: `Bearer ${Buffer.from(jwt).toString('base64')}` },
    });

  /** POSTs the start of a 1,000-byte body, then drops the socket. */
  const abortedPost = (path: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const socket = connectTcp(ts.port, '127.0.0.1', () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${Buffer.from(KEYS.full).toString('base64')}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"action":15,"data":"tru`,
        );
        setImmediate(() => {
          socket.destroy();
          resolve();
        });
      });
      socket.on('error', reject);
    });

  for (const [name, path] of [
    ['REST publish', '/channels/c/messages'],
    ['requestToken', `/keys/testapp.full/requestToken`],
  ] as const) {
    it(`${name}: a body the client aborts is refused quietly, not logged as a server error`, async () => {
      const seen = logger.entries.length;
      await abortedPost(path);
      await eventually(
        () => logger.entries.slice(seen).some((e) => e.msg === 'request refused' || e.level === 'error'),
        5000,
        'the abort is handled',
      );
      assert.deepEqual(
        logger.entries.slice(seen).filter((e) => e.level === 'error' || e.level === 'fatal'),
        [],
      );
      assert.ok(
        logger.entries.slice(seen).some((e) => e.msg === 'request refused' && e.fields.code === Err.badRequest.code),
      );
    });
  }

  it('comet send: an aborted body leaves the connection up and logs no error', async () => {
    const client = await RawCometClient.connect(ts.port);
    const seen = logger.entries.length;
    await abortedPost(client.path('send'));
    await eventually(
      () => logger.entries.slice(seen).some((e) => e.msg === 'comet send aborted by the client'),
      5000,
      'the abort is handled',
    );
    client.send([{ action: Action.ATTACH, channel: 'after-abort' }]).catch(() => {});
    await client.next(Action.ATTACHED);
    assert.deepEqual(
      logger.entries.slice(seen).filter((e) => e.level === 'error' || e.level === 'fatal'),
      [],
    );
    await client.close();
  });

  it('a JWT whose exp is beyond maxTokenTtl expires maxTokenTtl after its iat (40142)', async () => {
    const now = Date.now();
    const old = makeJwt(KEYS.full, { ttl: 24 * 3_600_000 }, { now: now - MAX_TOKEN_TTL - 60_000 });
    const res = await withJwt(old);
    assert.equal(res.status, 401);
    assert.equal((await responseError(res)).code, Err.tokenExpired.code);
    assert.equal(
      (await withJwt(makeJwt(KEYS.full, { ttl: 24 * 3_600_000 }, { now: now - MAX_TOKEN_TTL + 60_000 }))).status,
      200,
      'still within maxTokenTtl of its iat',
    );
  });

  it('a JWT issued further in the future than the allowed clock skew is refused (40144); within it, accepted', async () => {
    const future = await withJwt(makeJwt(KEYS.full, {}, { now: Date.now() + 24 * 3_600_000 }));
    assert.equal(future.status, 401);
    assert.equal((await responseError(future)).code, Err.invalidJwt.code);
    assert.equal((await withJwt(makeJwt(KEYS.full, {}, { now: Date.now() + SKEW / 2 }))).status, 200);
  });
});
