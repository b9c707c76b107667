/**
 * A parked comet socket's repeated recv (the same bytes as the last one served there) is checked
 * again by the registry's `again` instead of `find` + `VerifiedCredentials.reuse`
 * (packages/server/src/transports/comet/raw-recv.ts). Whatever happened to the registry since
 * (keys reissued past MAX_KEYS, the record forgotten, a resume's newer record holding the same
 * key, the verified credential replaced by another or by the same one verified again, a token
 * expiring), whenever `again` answers, `find(key, true)` returns the same record and `reuse` of the
 * request's credential the same authentication (fast-check, fixed seed). When nothing changed it
 * answers. Served over real sockets: comet-raw-recv.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CometRegistry,
  FakeClock,
  VerifiedCredentials,
  formatConnectionKey,
  type AuthContext,
  type CometTransport,
  type Found,
} from '@encke/server/internal';

const SEED = 19_403;
const IDS = ['connAAAAAAAA', 'connBBBBBBBB'];
const SECRET = 'S'.repeat(16);
const REQUEST = { key: 'app.key:secret' };
const OTHER = { key: 'app.key:other!' };

/** Only its identity is used by the registry's record keeping (no recv is held in these tests). */
const transports = [{ t: 0 }, { t: 1 }, { t: 2 }] as unknown as CometTransport[];

function authAt(expires: number | undefined): AuthContext {
  return {
    app: { id: 'app' },
    keyName: 'app.key',
    capability: {},
    method: expires === undefined ? 'basic' : 'token',
    clientId: undefined,
    expires,
  } as unknown as AuthContext;
}

type Op =
  | { op: 'issue'; transport: number; id: number; generation: number; rebound: boolean }
  | { op: 'forget'; transport: number; id: number }
  | { op: 'verify'; id: number; generation: number; other: boolean }
  | { op: 'tick'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('issue' as const),
    transport: fc.nat(2),
    id: fc.nat(1),
    // Generation 0 is the watched key itself: a newer record may be handed the same key.
    generation: fc.nat(6),
    // A CONNECTED binding another authentication (the record's verified credential is dropped).
    rebound: fc.boolean(),
  }),
  fc.record({ op: fc.constant('forget' as const), transport: fc.nat(2), id: fc.nat(1) }),
  fc.record({ op: fc.constant('verify' as const), id: fc.nat(1), generation: fc.nat(6), other: fc.boolean() }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.nat(400) }),
);

const keyOf = (id: number, generation: number): string => formatConnectionKey(IDS[id]!, SECRET, generation);

/** A registry with the watched key's record verified for REQUEST, and what a raw read kept of it. */
function watched(expiresIn: number | undefined): { registry: CometRegistry; clock: FakeClock; found: Found } {
  const clock = new FakeClock();
  const registry = new CometRegistry(clock);
  const auth = authAt(expiresIn === undefined ? undefined : clock.now() + expiresIn);
  registry.issued(transports[0]!, { connectionId: IDS[0]!, appId: 'app', connectionKey: keyOf(0, 0), auth });
  const record = registry.find(keyOf(0, 0), true)!;
  record.verified = new VerifiedCredentials(REQUEST, auth);
  return { registry, clock, found: { record, keyVersion: record.keyVersion, verified: record.verified } };
}

function apply(registry: CometRegistry, clock: FakeClock, o: Op, auth: AuthContext): void {
  if (o.op === 'tick') return clock.advance(o.ms);
  if (o.op === 'verify') {
    const record = registry.find(keyOf(o.id, o.generation), true);
    if (record) record.verified = new VerifiedCredentials(o.other ? OTHER : REQUEST, record.bound);
    return;
  }
  const transport = transports[o.transport]!;
  if (o.op === 'forget') return registry.forget(transport, IDS[o.id]!);
  registry.issued(transport, {
    connectionId: IDS[o.id]!,
    appId: 'app',
    connectionKey: keyOf(o.id, o.generation),
    auth: o.rebound ? authAt(auth.expires) : auth,
  });
}

describe('comet registry: a repeated raw recv checked again', () => {
  it('answers as find + reuse would, whatever changed since (fast-check)', () => {
    let answered = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.option(fc.nat(1000), { nil: undefined }), fc.array(op, { maxLength: 24 }), (expires, ops) => {
        const { registry, clock, found } = watched(expires);
        for (const o of ops) apply(registry, clock, o, found.record.bound);
        const again = registry.again(found, clock.now());
        const record = registry.find(keyOf(0, 0), true);
        const reused = record?.verified?.reuse(REQUEST, clock.now());
        if (again === undefined) return void refused++;
        answered++;
        assert.equal(record, found.record, 'the record find returns');
        assert.equal(reused, again, 'the authentication reuse gives');
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // Both sides were exercised.
    assert.ok(answered > 300 && refused > 300, `${answered} answered, ${refused} refused`);
  });

  it('does not answer once the key was reissued out of the record (four newer keys)', () => {
    const { registry, clock, found } = watched(undefined);
    const auth = found.record.bound;
    for (let g = 1; g <= 3; g++)
      registry.issued(transports[0]!, { connectionId: IDS[0]!, appId: 'app', connectionKey: keyOf(0, g), auth });
    // Three newer keys: the watched one is still held (a resumed client may still use it), by the same record.
    assert.equal(registry.find(keyOf(0, 0), true), found.record);
    registry.issued(transports[0]!, { connectionId: IDS[0]!, appId: 'app', connectionKey: keyOf(0, 4), auth });
    assert.equal(registry.find(keyOf(0, 0), true), undefined);
    assert.equal(registry.again(found, clock.now()), undefined);
  });

  it('answers when nothing changed, until a token expires', () => {
    const { registry, clock, found } = watched(1000);
    assert.equal(registry.again(found, clock.now()), found.record.bound);
    clock.advance(999);
    assert.equal(registry.again(found, clock.now()), found.record.bound);
    clock.advance(1);
    assert.equal(registry.again(found, clock.now()), undefined);
  });
});
