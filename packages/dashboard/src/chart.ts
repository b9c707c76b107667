/**
 * The messages-per-second chart, drawn by hand in SVG (no chart library to pin or audit): the last
 * `WINDOW` seconds of messages in and out, a "nice" y scale with gridlines, and a legend. Redrawn
 * once a second from the series the page keeps.
 */

export const WINDOW = 120;
/** The drawing's size when the element has none yet (not laid out): the chart is drawn at its real size, so text is never stretched. */
const DEFAULT_SIZE = { w: 640, h: 220 };
const PAD = { left: 48, right: 12, top: 12, bottom: 26 };
const SVG = 'http://www.w3.org/2000/svg';
/** Gridlines: a 1, 2 or 5 × 10^n maximum divides into five round steps. */
const STEPS = 5;

export interface Point {
  /** Seconds (local clock). */
  t: number;
  in: number;
  out: number;
}

/** The smallest 1, 2 or 5 × 10^n at or above `v` (at least 1). */
export function niceMax(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function formatRate(v: number): string {
  if (v >= 10_000) return `${Math.round(v / 1000)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  if (v >= 10 || v === 0) return String(Math.round(v));
  return v.toFixed(1);
}

function node<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

interface Size {
  w: number;
  h: number;
}

/** Polyline points of one series over the window ending at `now`, in a drawing of `size`. */
export function pointsOf(
  series: readonly Point[],
  pick: (p: Point) => number,
  now: number,
  max: number,
  size: Size = DEFAULT_SIZE,
): string {
  const x = (t: number): number => PAD.left + ((t - (now - WINDOW)) / WINDOW) * (size.w - PAD.left - PAD.right);
  const y = (v: number): number => PAD.top + (1 - v / max) * (size.h - PAD.top - PAD.bottom);
  return series.map((p) => `${x(p.t).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(' ');
}

export function drawChart(svg: SVGSVGElement, series: readonly Point[], now: number): void {
  const box = svg.getBoundingClientRect();
  const size: Size =
    box.width > 0 && box.height > 0 ? { w: Math.round(box.width), h: Math.round(box.height) } : DEFAULT_SIZE;
  const W = size.w;
  const H = size.h;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const visible = series.filter((p) => p.t >= now - WINDOW);
  const max = niceMax(Math.max(0, ...visible.map((p) => Math.max(p.in, p.out))));
  const parts: SVGElement[] = [];
  const plotH = H - PAD.top - PAD.bottom;
  for (let i = 0; i <= STEPS; i++) {
    const y = PAD.top + (i / STEPS) * plotH;
    parts.push(node('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }));
    parts.push(
      node(
        'text',
        { x: PAD.left - 8, y: y + 4, class: 'axis', 'text-anchor': 'end' },
        formatRate(max * (1 - i / STEPS)),
      ),
    );
  }
  for (const [label, ago] of [
    [`-${WINDOW}s`, WINDOW],
    [`-${WINDOW / 2}s`, WINDOW / 2],
    ['now', 0],
  ] as const) {
    const x = PAD.left + ((WINDOW - ago) / WINDOW) * (W - PAD.left - PAD.right);
    const anchor = ago === WINDOW ? 'start' : ago === 0 ? 'end' : 'middle';
    parts.push(node('text', { x, y: H - 6, class: 'axis', 'text-anchor': anchor }, label));
  }
  if (visible.length > 1) {
    parts.push(
      node('polyline', {
        points: pointsOf(visible, (p) => p.out, now, max, size),
        class: 'series out',
        'data-series': 'out',
      }),
    );
    parts.push(
      node('polyline', {
        points: pointsOf(visible, (p) => p.in, now, max, size),
        class: 'series in',
        'data-series': 'in',
      }),
    );
  } else {
    parts.push(
      node(
        'text',
        { x: W / 2, y: H / 2, class: 'waiting', 'text-anchor': 'middle' },
        'Waiting for the first seconds of data…',
      ),
    );
  }
  svg.replaceChildren(...parts);
}
