/**
 * The chart: one horizontal bar panel per headline metric (median, with a min–max whisker), drawn
 * as SVG and rendered to PNG by resvg (no browser). Text uses the system's DejaVu/sans fonts.
 */
import { Resvg } from '@resvg/resvg-js';
import { DELTA_PANELS } from './delta-bench.js';
import { METRICS, summarise, values, type CaseResult } from './metrics.js';
import type { Profile, ScenarioId } from './profiles.js';
import { STACKS, type StackId } from './stacks.js';

const PANELS: { scenario: ScenarioId; key: string; title: string }[] = [
  { scenario: 's1', key: 'max', title: 'S1 fan-out: max sustained deliveries/s (higher is better)' },
  { scenario: 's2', key: 'max', title: 'S2 own + shared channels: max sustained deliveries/s (higher is better)' },
  { scenario: 's1', key: 'p99', title: 'S1 p99 latency at 20k deliveries/s, ms (lower is better)' },
  { scenario: 's7', key: 'p99', title: 'S7 tail: p99 latency at 20k deliveries/s over 30 s, ms (lower is better)' },
  { scenario: 's7', key: 'p999', title: 'S7 tail: p99.9 latency at 20k deliveries/s over 30 s, ms (lower is better)' },
  { scenario: 's3', key: 'rss', title: 'S3 RSS per 1,000 idle connections, MiB (lower is better)' },
  { scenario: 's5', key: 'max', title: 'S5 cluster, 1 publisher: max sustained deliveries/s (higher is better)' },
  { scenario: 's5b', key: 'max', title: 'S5b cluster, 10 publishers: max sustained deliveries/s (higher is better)' },
  { scenario: 's5', key: 'p99', title: 'S5 cluster: p99 latency at 20k deliveries/s, ms (lower is better)' },
  { scenario: 's6', key: 'p99', title: 'S6 typing indicators, 100 members: p99 update latency, ms (lower is better)' },
  ...DELTA_PANELS,
];
const WIDTH = 900;
const LABEL_W = 220;
const BAR_H = 18;
const GAP = 6;
const PANEL_PAD = 44;
const COLORS: Partial<Record<StackId, string>> = {
  'bare-ws': '#888888',
  'encke-ws-json': '#1f6feb',
  'encke-ws-msgpack': '#0b4fb3',
  'encke-comet': '#5aa0ff',
  'encke-comet-stream': '#9cc4ff',
  'encke-redis-1': '#2f9e8f',
  'encke-cluster-2': '#1b6b60',
  'encke-ws-json-delta': '#7b3fe4',
  'encke-ws-msgpack-delta': '#5a22b8',
  'encke-comet-stream-delta': '#b38cf5',
};
const PEER_COLOR = '#e39b2d';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number): string =>
  v >= 10_000 ? `${Math.round(v / 1000)}k` : v >= 10 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);

export function chartSvg(profile: Profile, cases: readonly CaseResult[], subtitle: string): string {
  const parts: string[] = [];
  let y = 40;
  parts.push(`<text x="12" y="24" font-size="16" font-weight="bold">encke vs peers — ${esc(subtitle)}</text>`);
  for (const panel of PANELS) {
    const scenario = profile.scenarios.find((s) => s.id === panel.scenario);
    const metric = METRICS.find((m) => m.scenario === panel.scenario && m.key === panel.key)!;
    if (!scenario) continue;
    const rows = scenario.stacks.map((stack) => ({ stack, s: summarise(values(cases, metric, stack)) }));
    const top = Math.max(1e-9, ...rows.map((r) => r.s?.max ?? 0));
    parts.push(`<text x="12" y="${y + 18}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    y += 28;
    const plotW = WIDTH - LABEL_W - 80;
    for (const { stack, s } of rows) {
      parts.push(
        `<text x="${LABEL_W - 8}" y="${y + 13}" font-size="12" text-anchor="end">${esc(STACKS[stack].label)}</text>`,
      );
      if (s) {
        const w = (s.median / top) * plotW;
        const color = COLORS[stack] ?? PEER_COLOR;
        parts.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color}"/>`);
        let end = w;
        if (s.n > 1) {
          const x0 = LABEL_W + (s.min / top) * plotW;
          const x1 = LABEL_W + (s.max / top) * plotW;
          end = Math.max(w, x1 - LABEL_W);
          parts.push(
            `<line x1="${x0.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${y + BAR_H / 2}" y2="${y + BAR_H / 2}" stroke="#222" stroke-width="1.5"/>`,
          );
        }
        parts.push(`<text x="${(LABEL_W + end + 6).toFixed(1)}" y="${y + 13}" font-size="11">${fmt(s.median)}</text>`);
      } else {
        parts.push(`<text x="${LABEL_W + 6}" y="${y + 13}" font-size="11" fill="#888">not measured</text>`);
      }
      y += BAR_H + GAP;
    }
    y += PANEL_PAD - 28;
  }
  const height = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

export function chartPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}
