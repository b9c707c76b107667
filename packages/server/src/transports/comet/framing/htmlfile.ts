/**
 * The forever-iframe ("htmlfile"): a recv answered as a `text/html` document that never finishes
 * loading; each batch is a `<script>` element calling the parent page. Two ways to reach it:
 *
 * - `origin=<parent origin>`: `parent.postMessage({encke: […]}, origin)`, the cross-origin way
 *   (the browser delivers it to a parent of exactly that origin, nobody else);
 * - `callback=<name>`: `parent.<name>([…])`, for a parent on the server's own origin.
 *
 * Old browsers render nothing until they have some bytes, hence the padding; the transport ends the
 * document after a byte budget so that a page does not hold an ever-growing DOM, and the parent
 * opens the next iframe when this one's `load` fires.
 */
import type { OutboundFrame } from '../../../wire/frame.js';
import { jsonArray, type Framing, type WholeAnswer } from './framing.js';
import { scriptSafeJson } from './script-safe.js';

export const HTML_TYPE = 'text/html; charset=utf-8';

/** Bytes of padding after the head: Safari and old IE wait for ~1 KiB before rendering anything. */
export const HTMLFILE_PADDING = 1024;

export type IframeTarget = { origin: string; callback?: undefined } | { callback: string; origin?: undefined };

export class HtmlfileFraming implements Framing {
  readonly name = 'htmlfile' as const;
  readonly contentType = HTML_TYPE;
  readonly streams = true;

  constructor(private readonly target: IframeTarget) {}

  preamble(): string {
    const deliver =
      this.target.origin !== undefined
        ? `function p(m){parent.postMessage({encke:m},${scriptSafeJson(JSON.stringify(this.target.origin))})}`
        : `function p(m){parent.${this.target.callback}(m)}`;
    const head = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>encke</title><script>${deliver}</script></head><body>\n`;
    return head + `<!--${' '.repeat(HTMLFILE_PADDING)}-->\n`;
  }

  batch(frames: readonly OutboundFrame[]): string {
    return `<script>p(${scriptSafeJson(jsonArray(frames))})</script>\n`;
  }

  epilogue(): string {
    return '</body></html>\n';
  }

  whole(frames: readonly OutboundFrame[], status: number): WholeAnswer {
    return { status, body: this.preamble() + this.batch(frames) + this.epilogue() };
  }
}
