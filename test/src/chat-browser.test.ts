/**
 * The chat demo in Chromium, once per transport of @encke/client, each forced through the page's
 * transport picker: two pages (a message, history on join, who is typing: shown within 500 ms of a
 * keystroke, gone within 3 s of the last one and at once when the message is sent), then five
 * (a message reaches all the others; the members list follows a join, a closed tab, and a lost
 * network after the server's timeout).
 */
import assert from 'node:assert/strict';
import { TRANSPORTS } from '@encke/client/transports';
import { after, before, describe, it } from 'node:test';
import {
  ChatPage,
  MAX_IDLE_INTERVAL,
  REMAIN_PRESENT_FOR,
  startChatServer,
  useBrowser,
  type ProbeWindow,
} from './helpers/chat.js';
import type { TestServer } from './helpers/server.js';

/** Every transport the client library has: the picker must offer exactly these (after "Automatic"), and the scenario runs over each. */
const CHAT_TRANSPORTS = TRANSPORTS;

/** The requirements under test. */
const TYPING_SHOWN_WITHIN = 500;
const TYPING_GONE_WITHIN = 3000;
/**
 * A closed tab's member leaves within this long: at once when its CLOSE gets out (WebSocket,
 * streaming), else (a long-poll between polls) once the server's idle limit notices the silence.
 */
const TAB_CLOSE_LEAVES_WITHIN = REMAIN_PRESENT_FOR + 2 * MAX_IDLE_INTERVAL + 4000;

/** One Chromium for this file. */
const browser = useBrowser();

async function closeAll(pages: ChatPage[]): Promise<void> {
  for (const p of pages) await p.close();
}

/** Waits until `page`'s typing log has an entry after `since` matching `match`; returns its time. */
async function typingAt(
  page: ChatPage,
  since: number,
  match: (text: string) => boolean,
  timeout = 6000,
): Promise<number> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const hit = (await page.typingLog()).find((e) => e.t >= since && match(e.text));
    if (hit) return hit.t;
    if (Date.now() > deadline)
      throw new Error(
        `${page.name}: typing line never matched; log ${JSON.stringify(await page.typingLog())}; browser log:\n${browser().log.slice(-20).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function twoPages(server: TestServer, transport: string, room: string): Promise<void> {
  const ana = await ChatPage.join(browser(), server, 'Ana', transport, { room });
  const pages = [ana];
  try {
    assert.equal(await ana.transport(), transport);
    const firstId = await ana.send('first, before Bo joins');
    await ana.waitDelivery(firstId, 'acknowledged');

    const bo = await ChatPage.join(browser(), server, 'Bo', transport, { room });
    pages.push(bo);
    await bo.waitMessage('first, before Bo joins'); // history on join
    await ana.waitMember('Bo');

    const helloId = await ana.send('hello Bo');
    await bo.waitMessage('hello Bo');
    await ana.waitDelivery(helloId, 'acknowledged');
    assert.deepEqual(await bo.messages(), ['first, before Bo joins', 'hello Bo']);

    // Typing: one keystroke shows "Bo is typing…" on Ana's page, which goes again once Bo stops.
    await ana.recordTyping();
    const pressed = await bo.keystroke('h');
    const shown = await typingAt(ana, pressed, (t) => t.includes('Bo is typing'));
    assert.ok(
      shown - pressed <= TYPING_SHOWN_WITHIN,
      `typing shown ${shown - pressed} ms after the keystroke over ${transport}`,
    );
    const gone = await typingAt(ana, shown, (t) => t === '');
    assert.ok(
      gone - pressed <= TYPING_GONE_WITHIN,
      `typing gone ${gone - pressed} ms after the last keystroke over ${transport}`,
    );

    // Typing again, then Enter: the indicator goes at once, with the message.
    const again = await bo.keystroke('i');
    await typingAt(ana, again, (t) => t.includes('Bo is typing'));
    await ana.recordArrivals();
    const sentAt = await bo.now();
    await bo.page.keyboard.press('Enter');
    await ana.waitMessage('hi');
    const cleared = await typingAt(ana, sentAt, (t) => t === '');
    const arrived = (await ana.arrivals())[0]!;
    assert.ok(
      cleared - sentAt <= TYPING_SHOWN_WITHIN,
      `typing cleared ${cleared - sentAt} ms after sending over ${transport}`,
    );
    assert.ok(cleared <= arrived + 50, `typing cleared ${cleared - arrived} ms after the message arrived`);
  } finally {
    await closeAll(pages);
  }
}

async function fivePages(server: TestServer, transport: string, room: string): Promise<void> {
  const pages: ChatPage[] = [];
  try {
    const ana = await ChatPage.join(browser(), server, 'Ana', transport, { room });
    pages.push(ana);
    const bo = await ChatPage.join(browser(), server, 'Bo', transport, { room, cuttable: true });
    pages.push(bo);
    for (const name of ['Cy', 'Di', 'Ed'])
      pages.push(await ChatPage.join(browser(), server, name, transport, { room }));
    const [, , cy, di, ed] = pages as [ChatPage, ChatPage, ChatPage, ChatPage, ChatPage];
    for (const p of pages) for (const other of pages) await p.waitMember(other.name);
    assert.deepEqual((await ana.members()).sort(), ['Ana', 'Bo', 'Cy', 'Di', 'Ed']);

    await ed.send('hello everyone');
    for (const p of pages.slice(0, 4)) await p.waitMessage('hello everyone');

    await cy.recordTyping();
    await ed.recordTyping();
    const pressed = await di.keystroke('x');
    for (const p of [cy, ed]) {
      const shown = await typingAt(p, pressed, (t) => t.includes('Di is typing'));
      assert.ok(
        shown - pressed <= TYPING_SHOWN_WITHIN,
        `typing shown on ${p.name} ${shown - pressed} ms after the keystroke`,
      );
    }
    // Several at once.
    const second = await cy.keystroke('y');
    await typingAt(ed, second, (t) => t === 'Di and Cy are typing…');

    // A closed tab leaves: at once where the client's CLOSE gets out as the page goes (WebSocket,
    // streaming), else when the server's timeouts notice it is gone.
    await di.close();
    for (const p of [ana, cy, ed]) await p.waitNoMember('Di', TAB_CLOSE_LEAVES_WITHIN);

    // A lost network leaves after the server's timeout (the member stays meanwhile).
    const cut = Date.now();
    bo.cutNetwork();
    await ana.waitNoMember('Bo', REMAIN_PRESENT_FOR + 10_000);
    const left = Date.now() - cut;
    assert.ok(
      left >= REMAIN_PRESENT_FOR - 200,
      `Bo left ${left} ms after the cut, before the server's ${REMAIN_PRESENT_FOR} ms`,
    );
    for (const p of [cy, ed]) await p.waitNoMember('Bo');
    assert.deepEqual((await cy.members()).sort(), ['Ana', 'Cy', 'Ed']);
    // Bo's own page says it lost the connection (once its client notices: at once, or when the server's heartbeats stop).
    await bo.page.waitForSelector('#conn:not([data-health="ok"])', { timeout: 20_000 });
  } finally {
    await closeAll(pages);
  }
}

describe('chat demo: the transport picker', () => {
  it('offers automatic and every transport of the client library', async () => {
    const server = await startChatServer();
    try {
      const page = await browser().open(`http://127.0.0.1:${server.port}/`);
      const values = await page.evaluate(() =>
        (globalThis as unknown as ProbeWindow).probes.optionValues('#transport'),
      );
      assert.deepEqual(values, ['', ...CHAT_TRANSPORTS]);
      await page.close();
    } finally {
      await server.close();
    }
  });
});

for (const transport of CHAT_TRANSPORTS) {
  describe(`chat demo over ${transport}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startChatServer();
    });
    after(async () => {
      await server.close();
    });

    it('two pages: a message, history on join, typing shown and gone in time', async () => {
      await twoPages(server, transport, `two-${transport.replace(/_/g, '-')}`);
    });

    it('five pages: a message reaches all; members follow a join, a closed tab and a lost network', async () => {
      await fivePages(server, transport, `five-${transport.replace(/_/g, '-')}`);
    });
  });
}
