/**
 * The pure parts of the two web apps, on a fake clock: the chat's typing sender (throttle, idle
 * stop) and board (expiry), its message log (delivery states), its names; the dashboard's Cluster
 * (rates from consecutive snapshots, restarts, late snapshots, liveness, errors by code, merged
 * channels). The browser tests prove the same things end to end at real speed; these pin the edges.
 * The modules are browser code (examples/chat, packages/dashboard), bundled here by esbuild as the
 * apps' own build does, then imported.
 */
import { importModule } from '../helpers/module.js';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { DashboardChannel, DashboardSnapshot } from '@encke/protocol';
import { REPO, tempDir } from '../helpers/process.js';

/** Bundles one browser module of the repository and imports it. */
async function load<T>(entry: string): Promise<T> {
  const result = await build({
    entryPoints: [join(REPO, entry)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const file = join(tempDir('encke-web-app-'), 'module.mjs');
  writeFileSync(file, result.outputFiles[0]!.contents);
  return (await importModule(pathToFileURL(file).href)) as T;
}

interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

/** Timers that run only when the test advances the time. */
class FakeTimers implements Timers {
  private t = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(id: number): void {
    this.pending.delete(id);
  }

  /** Moves the clock `ms` on, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.pending].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

interface TypingModule {
  THROTTLE: number;
  IDLE: number;
  EXPIRY: number;
  TypingSender: new (
    send: (typing: boolean) => void,
    timers: Timers,
  ) => { keystroke(draftEmpty: boolean): void; stop(): void };
  TypingBoard: new (
    changed: (typers: string[]) => void,
    timers: Timers,
  ) => { signal(id: string, typing: boolean): void; clear(id: string): void; reset(): void; typers(): string[] };
}

interface LoggedMessage {
  id: string;
  delivery: string;
  error?: string;
}

interface MessagesModule {
  MAX_MESSAGES: number;
  MessageLog: new (changed: (m: LoggedMessage, added: boolean) => void) => {
    sent(id: string, clientId: string, text: string, now: number): LoggedMessage;
    acknowledged(id: string): void;
    failed(id: string, reason: string): void;
    retrying(id: string): void;
    received(id: string, clientId: string, text: string, timestamp: number, own: boolean): void;
    get(id: string): LoggedMessage | undefined;
    readonly size: number;
  };
}

interface NamesModule {
  cleanName(raw: string): string | undefined;
  initials(name: string): string;
  typingSentence(names: readonly string[]): string;
  transportLabel(name: string): string;
}

interface Rates {
  in: number;
  out: number;
}

interface ClusterModule {
  SILENT_AFTER_INTERVALS: number;
  FORGET_AFTER: number;
  RECENT_ERRORS: number;
  Cluster: new () => {
    accept(s: DashboardSnapshot, now: number): void;
    readonly heardFrom: boolean;
    hasRates(now: number): boolean;
    rates(now: number): Rates;
    connections(now: number): { byTransport: Map<string, Record<string, number>>; total: number; resumable: number };
    channels(now: number): {
      rows: (Omit<DashboardChannel, 'messagesIn' | 'messagesOut'> & { rates: Rates })[];
      total: number;
    };
    errors(now: number): { code: string; title: string; total: number; recent: number; lastSeen: number | undefined }[];
    faults(now: number): Record<string, number>;
    nodeRows(now: number): { id: string; liveness: string; connections: number }[];
  };
}

describe('chat: who is typing', () => {
  let m: TypingModule;
  before(async () => {
    m = await load<TypingModule>('examples/chat/src/typing.ts');
  });

  it('the sender says "typing" at once, again at most once per THROTTLE while keys come, and "stopped" once after IDLE', () => {
    const timers = new FakeTimers();
    const sent: [number, boolean][] = [];
    const sender = new m.TypingSender((typing) => sent.push([timers.now(), typing]), timers);
    for (let t = 0; t < 3500; t += 100) {
      sender.keystroke(false);
      timers.advance(100);
    }
    timers.advance(m.IDLE);
    const starts = sent.filter(([, typing]) => typing).map(([t]) => t);
    assert.deepEqual(starts, [0, m.THROTTLE, 2 * m.THROTTLE, 3 * m.THROTTLE]);
    assert.deepEqual(
      sent.filter(([, typing]) => !typing),
      [[3400 + m.IDLE, false]],
    );
    assert.ok(m.THROTTLE < m.EXPIRY, 'a steady typer renews before a receiver expires them');
  });

  it('the sender says "stopped" when the draft is emptied or sent, once, and nothing when it was not typing', () => {
    const timers = new FakeTimers();
    const sent: boolean[] = [];
    const sender = new m.TypingSender((typing) => sent.push(typing), timers);
    sender.stop();
    sender.keystroke(true);
    assert.deepEqual(sent, []);
    sender.keystroke(false);
    sender.keystroke(true); // draft cleared
    sender.stop();
    timers.advance(10_000);
    assert.deepEqual(sent, [true, false]);
  });

  it('the board shows a typer until EXPIRY after their last signal, at once gone on "stopped", several at a time', () => {
    const timers = new FakeTimers();
    const changes: string[][] = [];
    const board = new m.TypingBoard((typers) => changes.push(typers), timers);
    board.signal('Ana', true);
    timers.advance(m.EXPIRY - 500);
    board.signal('Ana', true); // renewed
    board.signal('Bo', true);
    assert.deepEqual(board.typers(), ['Ana', 'Bo']);
    timers.advance(m.EXPIRY - 1);
    assert.deepEqual(board.typers(), ['Ana', 'Bo']);
    board.signal('Bo', false);
    assert.deepEqual(board.typers(), ['Ana']);
    timers.advance(1);
    assert.deepEqual(board.typers(), [], 'Ana vanished: expired EXPIRY after her last signal');
    assert.deepEqual(changes, [['Ana'], ['Ana', 'Bo'], ['Ana'], []]);
    assert.ok(m.EXPIRY < 3000, 'gone within 3 s of the last keystroke');
  });
});

describe('chat: delivery states', () => {
  let m: MessagesModule;
  before(async () => {
    m = await load<MessagesModule>('examples/chat/src/messages.ts');
  });

  it('pending → acknowledged; failed with the reason → retry → pending → acknowledged; a late failure after an ACK is ignored', () => {
    const states: string[] = [];
    const log = new m.MessageLog((msg) => states.push(`${msg.id}:${msg.delivery}`));
    log.sent('a', 'Ana', 'hi', 1);
    log.acknowledged('a');
    log.failed('a', 'too late');
    assert.equal(log.get('a')?.delivery, 'acknowledged');
    log.sent('b', 'Ana', 'again', 2);
    log.failed('b', 'Maximum message size exceeded');
    assert.equal(log.get('b')?.error, 'Maximum message size exceeded');
    log.retrying('b');
    assert.equal(log.get('b')?.error, undefined);
    log.received('b', 'Ana', 'again', 3, true); // the echo confirms it
    assert.deepEqual(states, [
      'a:pending',
      'a:acknowledged',
      'a:acknowledged',
      'b:pending',
      'b:failed',
      'b:pending',
      'b:acknowledged',
    ]);
  });

  it('a message received twice (history and live) is listed once; others\' are "received"; the list is bounded', () => {
    const added: string[] = [];
    const log = new m.MessageLog((msg, isNew) => {
      if (isNew) added.push(msg.id);
    });
    log.received('x', 'Bo', 'yo', 1, false);
    log.received('x', 'Bo', 'yo', 1, false);
    assert.deepEqual(added, ['x']);
    assert.equal(log.get('x')?.delivery, 'received');
    for (let i = 0; i < m.MAX_MESSAGES + 10; i++) log.received(`m${i}`, 'Bo', 't', i, false);
    assert.equal(log.size, m.MAX_MESSAGES);
    assert.equal(log.get('x'), undefined);
  });
});

describe('chat: names', () => {
  let m: NamesModule;
  before(async () => {
    m = await load<NamesModule>('examples/chat/src/names.ts');
  });

  it('says who is typing for one, two, three and more people', () => {
    assert.equal(m.typingSentence([]), '');
    assert.equal(m.typingSentence(['Ana']), 'Ana is typing…');
    assert.equal(m.typingSentence(['Ana', 'Bo']), 'Ana and Bo are typing…');
    assert.equal(m.typingSentence(['Ana', 'Bo', 'Cy']), 'Ana, Bo and Cy are typing…');
    assert.equal(m.typingSentence(['Ana', 'Bo', 'Cy', 'Di', 'Ed']), 'Ana, Bo and 3 others are typing…');
  });

  const names: [string, string | undefined][] = [
    ['  Ana Lima ', 'Ana Lima'],
    ['Zoë', 'Zoë'],
    ["O'Brien-Smith", "O'Brien-Smith"],
    ['', undefined],
    ['-dash', undefined],
    ['<script>', undefined],
    ['a'.repeat(33), undefined],
  ];
  for (const [raw, want] of names) {
    it(`takes ${JSON.stringify(raw)} as ${JSON.stringify(want)}`, () => assert.equal(m.cleanName(raw), want));
  }

  it('initials and transport labels', () => {
    assert.equal(m.initials('Ana Lima'), 'AL');
    assert.equal(m.initials('bo'), 'B');
    assert.equal(m.transportLabel('xhr_polling'), 'Long polling');
    assert.equal(m.transportLabel('carrier_pigeon'), 'carrier_pigeon');
  });
});

const INTERVAL = 1000;

/** A snapshot of `node` (started at `startedAt`) taken at `at`, with cumulative counters. */
function snapshot(
  node: string,
  startedAt: number,
  at: number,
  c: {
    in: number;
    out: number;
    ws?: number;
    errors?: Record<string, number>;
    faults?: Record<string, number>;
    channels?: DashboardChannel[];
  },
): DashboardSnapshot {
  return {
    version: 1,
    at,
    interval: INTERVAL,
    node: { id: node, startedAt, engine: 'redis', cpu: 0.1, rss: 1e8, heapUsed: 5e7, eventLoopDelay: 0.5 },
    metrics: {
      connections: { web_socket: { json: c.ws ?? 1, msgpack: 0 }, comet: { json: 0, msgpack: 0 } },
      resumable: 0,
      messagesIn: c.in,
      messagesOut: c.out,
      errors: c.errors ?? {},
      faults: c.faults ?? { encode: 0, connection: 0 },
    },
    errorTitles: Object.fromEntries(Object.keys(c.errors ?? {}).map((code) => [code, `title ${code}`])),
    channels: { total: c.channels?.length ?? 0, listed: c.channels ?? [] },
    apps: [],
  };
}

function channel(
  name: string,
  subscribers: number,
  messagesIn: number,
  messagesOut: number,
  presenceMembers: number | null = null,
): DashboardChannel {
  return {
    app: 'app',
    name,
    connections: subscribers,
    subscribers,
    publishers: subscribers,
    presenceMembers,
    messagesIn,
    messagesOut,
  };
}

describe('dashboard: the cluster it hears', () => {
  let m: ClusterModule;
  before(async () => {
    m = await load<ClusterModule>('packages/dashboard/src/cluster.ts');
  });

  it('rates come from two snapshots of a node (none from the first), summed over nodes with their connections', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 100, out: 500, ws: 3 }), 10_000);
    assert.equal(cluster.hasRates(10_000), false);
    assert.deepEqual(cluster.rates(10_000), { in: 0, out: 0 });
    cluster.accept(snapshot('a', 0, 2000, { in: 110, out: 550, ws: 3 }), 11_000);
    cluster.accept(snapshot('b', 0, 1500, { in: 7, out: 7, ws: 2 }), 11_000);
    cluster.accept(snapshot('b', 0, 2000, { in: 9, out: 8, ws: 2 }), 11_500);
    assert.equal(cluster.hasRates(11_500), true);
    assert.deepEqual(cluster.rates(11_500), { in: 10 + 4, out: 50 + 2 });
    assert.equal(cluster.connections(11_500).total, 5);
    assert.deepEqual(cluster.connections(11_500).byTransport.get('web_socket'), { json: 5, msgpack: 0 });
  });

  it('a restarted node (new startedAt, counters from zero) gives no negative rate; a late or repeated snapshot is ignored', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 100, out: 100 }), 1000);
    cluster.accept(snapshot('a', 0, 2000, { in: 120, out: 130 }), 2000);
    cluster.accept(snapshot('a', 0, 1500, { in: 110, out: 110 }), 2100); // late
    cluster.accept(snapshot('a', 0, 2000, { in: 120, out: 130 }), 2200); // repeated
    assert.deepEqual(cluster.rates(2200), { in: 20, out: 30 });
    cluster.accept(snapshot('a', 5000, 6000, { in: 3, out: 3 }), 6000); // restarted
    assert.deepEqual(cluster.rates(6000), { in: 0, out: 0 });
    assert.equal(cluster.hasRates(6000), false);
  });

  it('a node is live while snapshots come, silent after SILENT_AFTER_INTERVALS (out of the totals), forgotten after FORGET_AFTER', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, ws: 4 }), 1000);
    cluster.accept(snapshot('b', 0, 1000, { in: 0, out: 0, ws: 1 }), 1000);
    const silentAt = 1000 + INTERVAL * m.SILENT_AFTER_INTERVALS + 1;
    cluster.accept(snapshot('b', 0, silentAt, { in: 0, out: 0, ws: 1 }), silentAt);
    assert.deepEqual(
      cluster.nodeRows(silentAt).map((n) => [n.id, n.liveness]),
      [
        ['a', 'silent'],
        ['b', 'live'],
      ],
    );
    assert.equal(cluster.connections(silentAt).total, 1);
    assert.deepEqual(
      cluster.nodeRows(1000 + m.FORGET_AFTER + 1).map((n) => n.id),
      ['b'],
    );
  });

  it('errors by code: totals over nodes; "recent" is what grew while listening, for RECENT_ERRORS', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, errors: { '40400': 5 } }), 1000);
    cluster.accept(snapshot('b', 0, 1000, { in: 0, out: 0, errors: { '40101': 1 } }), 1000);
    assert.deepEqual(
      cluster.errors(1000).map((e) => [e.code, e.recent, e.total]),
      [
        ['40400', 0, 5],
        ['40101', 0, 1],
      ],
    );
    cluster.accept(snapshot('a', 0, 2000, { in: 0, out: 0, errors: { '40400': 5, '40012': 2 } }), 2000);
    cluster.accept(snapshot('b', 0, 2000, { in: 0, out: 0, errors: { '40101': 4 } }), 2000);
    const rows = cluster.errors(2500);
    assert.deepEqual(
      rows.map((e) => [e.code, e.recent, e.total]),
      [
        ['40101', 3, 4],
        ['40012', 2, 2],
        ['40400', 0, 5],
      ],
    );
    assert.equal(rows[1]!.title, 'title 40012');
    assert.equal(rows[1]!.lastSeen, 2000);
    const later = 2000 + m.RECENT_ERRORS + 1;
    cluster.accept(snapshot('a', 0, later, { in: 0, out: 0, errors: { '40400': 5, '40012': 2 } }), later);
    // Node b has been silent for FORGET_AFTER: its codes go with it.
    assert.deepEqual(
      cluster.errors(later).map((e) => [e.code, e.recent, e.total]),
      [
        ['40400', 0, 5],
        ['40012', 0, 2],
      ],
    );
  });

  it('faults by kind are summed over the nodes', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, faults: { encode: 1, connection: 0 } }), 1000);
    cluster.accept(snapshot('b', 0, 1000, { in: 0, out: 0, faults: { encode: 2, connection: 3 } }), 1000);
    assert.deepEqual(cluster.faults(1000), { encode: 3, connection: 3 });
  });

  it("channels of several nodes merge: attachments summed, presence the channel's, rate in as published once, out summed", () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, channels: [channel('room', 2, 10, 20, 3)] }), 1000);
    cluster.accept(
      snapshot('b', 0, 1000, { in: 0, out: 0, channels: [channel('room', 1, 10, 10, 3), channel('quiet', 1, 0, 0)] }),
      1000,
    );
    cluster.accept(snapshot('a', 0, 2000, { in: 0, out: 0, channels: [channel('room', 2, 15, 30, 3)] }), 2000);
    cluster.accept(
      snapshot('b', 0, 2000, { in: 0, out: 0, channels: [channel('room', 1, 15, 15, 3), channel('quiet', 1, 0, 0)] }),
      2000,
    );
    const { rows, total } = cluster.channels(2000);
    assert.equal(total, 2);
    assert.deepEqual(
      rows.map((r) => [r.name, r.subscribers, r.presenceMembers, r.rates.in, r.rates.out]),
      [
        ['room', 3, 3, 5, 15],
        ['quiet', 1, null, 0, 0],
      ],
    );
  });
});
