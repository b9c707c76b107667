/**
 * The live occupancy badge (`GET /badge/<channel>`): multipart/x-mixed-replace of SVG images, one
 * per change of the channel's presence count; in Chromium an `<img>` of another origin shows the
 * latest one (screenshot checked).
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { Err } from '@encke/protocol';
import { closeAll, connect, realtime } from './helpers/ably.js';
import { useBrowserFixture } from './helpers/browser.js';
import { jsonError } from './helpers/json.js';
import { KEYS } from './helpers/server.js';

const K = `key=${encodeURIComponent(KEYS.full)}`;

/** Reads the badge stream: the counts its images show, in order. */
class BadgeReader {
  readonly counts: number[] = [];
  /** Everything read. */
  raw = '';
  readonly ended: Promise<void>;
  private text = '';
  private constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    this.ended = new Promise((resolve) => res.on('close', resolve));
    res.on('data', (c: string) => {
      this.raw += c;
      this.text += c;
      for (;;) {
        const end = this.text.indexOf('</svg>');
        if (end < 0) break;
        const m = />(\d+) present</.exec(this.text.slice(0, end));
        if (m) this.counts.push(Number(m[1]));
        this.text = this.text.slice(end + 6);
      }
    });
  }

  static open(port: number, path: string): Promise<BadgeReader> {
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path }, (res) => resolve(new BadgeReader(res)))
        .on('error', reject)
        .end();
    });
  }

  async shows(count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.counts.at(-1) !== count) {
      if (Date.now() > deadline) throw new Error(`badge never showed ${count}: ${this.counts.join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('occupancy badge', () => {
  const f = useBrowserFixture();

  it('streams a new image on every change of the presence count', async () => {
    const badge = await BadgeReader.open(f.ts.port, `/badge/lobby?${K}`);
    assert.equal(badge.res.statusCode, 200);
    assert.equal(badge.res.headers['content-type'], 'multipart/x-mixed-replace; boundary=encke-badge');
    await badge.shows(0);
    const variant = { name: 'ws', transport: 'web_socket', format: 'json' } as const;
    const ann = await connect(realtime(f.ts, variant, { clientId: 'ann' }));
    const bob = await connect(realtime(f.ts, variant, { clientId: 'bob' }));
    await ann.channels.get('lobby').presence.enter();
    await badge.shows(1);
    await bob.channels.get('lobby').presence.enter();
    await badge.shows(2);
    await ann.channels.get('lobby').presence.leave();
    await badge.shows(1);
    assert.deepEqual(
      badge.counts.filter((c, i, all) => i === 0 || all[i - 1] !== c),
      [0, 1, 2, 1],
    );
    badge.res.destroy();
    await closeAll(ann, bob);
  });

  it('refuses bad credentials (401) and a channel outside the capability (40160) as plain HTTP errors', async () => {
    for (const [path, code] of [
      [`/badge/lobby?key=${encodeURIComponent('testapp.full:wrong')}`, Err.invalidCredentials.code],
      ['/badge/lobby', Err.invalidCredentials.code],
      [`/badge/secret?key=${encodeURIComponent(KEYS.limited)}`, Err.capabilityDenied.code],
    ] as const) {
      const badge = await BadgeReader.open(f.ts.port, path);
      await badge.ended;
      assert.equal(jsonError(badge.raw).code, code, path);
    }
  });

  it('an <img> on a page of another origin shows the live count (screenshot)', async () => {
    const src = `http://127.0.0.1:${f.ts.port}/badge/stage?${K}`;
    f.pages.route(
      '/badge-page.html',
      `<!doctype html><html><body style="margin:0;background:#fff"><img id="badge" src="${src}"></body></html>`,
    );
    const page = await f.browser.open(f.pages.url('/badge-page.html'));
    const variant = { name: 'ws', transport: 'web_socket', format: 'json' } as const;
    const clients = await Promise.all(['a', 'b', 'c'].map((id) => connect(realtime(f.ts, variant, { clientId: id }))));
    try {
      for (const c of clients) await c.channels.get('stage').presence.enter();
      // The image is replaced in place: wait until it has the width of the "3 present" picture.
      await page.waitForFunction(() => {
        const img = (
          globalThis as unknown as {
            document: { getElementById(id: string): { naturalWidth: number; complete: boolean } | null };
          }
        ).document.getElementById('badge');
        return img !== null && img.naturalWidth > 0;
      });
      const shot = async (name: string): Promise<Buffer> => {
        await new Promise((resolve) => setTimeout(resolve, 500)); // the part after the change has begun
        return page.screenshot({ path: `test/dist/${name}.png`, clip: { x: 0, y: 0, width: 200, height: 40 } });
      };
      // The picture follows the count: 3, then 2 after a leave, then 3 again (pixel for pixel).
      const three = await shot('badge-3-present');
      await clients[2]!.channels.get('stage').presence.leave();
      const two = await shot('badge-2-present');
      await clients[2]!.channels.get('stage').presence.enter();
      const threeAgain = await shot('badge-3-present-again');
      assert.notDeepEqual(two, three, 'the image changed when a member left');
      assert.deepEqual(threeAgain, three, 'and changed back');
      console.log('# badge screenshots: test/dist/badge-3-present.png, badge-2-present.png');
    } finally {
      await closeAll(...clients);
      await page.close();
    }
  });
});
