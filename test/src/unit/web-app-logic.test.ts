/**
 * The pure parts of the chat demo, on a fake clock: its typing sender (throttle, idle stop) and
 * board (expiry), its message log (delivery states), its names. The browser tests prove the same
 * things end to end at real speed; these pin the edges. The modules are browser code
 * (examples/chat), bundled here by esbuild as the app's own build does, then imported. The
 * dashboard's pure parts are in dashboard-logic.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadBrowserModule } from '../helpers/browser-module.js';

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

describe('chat: who is typing', () => {
  let m: TypingModule;
  before(async () => {
    m = await loadBrowserModule<TypingModule>('examples/chat/src/typing.ts', {
      THROTTLE: 'number',
      IDLE: 'number',
      EXPIRY: 'number',
      TypingSender: 'function',
      TypingBoard: 'function',
    });
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
    m = await loadBrowserModule<MessagesModule>('examples/chat/src/messages.ts', {
      MAX_MESSAGES: 'number',
      MessageLog: 'function',
    });
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
    m = await loadBrowserModule<NamesModule>('examples/chat/src/names.ts', {
      cleanName: 'function',
      initials: 'function',
      typingSentence: 'function',
      transportLabel: 'function',
    });
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
