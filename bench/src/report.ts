/** The markdown report: one table per scenario (medians, min–max, ratios to bare ws), then targets. */
import { METRICS, REFERENCE, ratios, summarise, values, type CaseResult, type Summary } from './metrics.js';
import { targets } from './targets.js';
import type { Profile } from './profiles.js';
import { STACKS, type StackId } from './stacks.js';

export interface RunInfo {
  date: string;
  machine: string;
  node: string;
  pinned: boolean;
  seconds: number;
}

function fmt(v: number, digits: number): string {
  return digits === 0 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

function cell(s: Summary | undefined, digits: number): string {
  if (!s) return '–';
  if (s.n === 1) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

function ratioCell(s: Summary | undefined): string {
  if (!s) return '';
  return s.n === 1 ? `${s.median.toFixed(2)}×` : `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

export function markdown(profile: Profile, cases: readonly CaseResult[], info: RunInfo): string {
  const lines: string[] = [];
  lines.push(`# encke benchmark report (${profile.name})`, '');
  const pinning = info.pinned
    ? 'server and generator pinned to separate cores (taskset; every server process of a stack on the server core)'
    : 'server and generator not pinned';
  lines.push(
    `${info.date} · ${info.machine} · Node ${info.node} · ${pinning} · ${profile.runs} run(s) · ${Math.round(info.seconds)} s`,
    '',
  );
  lines.push(
    `Cells: median over runs (min–max). \`× ref\`: the median of per-run ratios to the scenario's reference (bare ws unless the scenario names another) in the same run.`,
    '',
  );
  for (const scenario of profile.scenarios) {
    const metrics = METRICS.filter((m) => m.scenario === scenario.id);
    const reference = scenario.reference ?? REFERENCE;
    const referenceOf = (stack: StackId): StackId => scenario.referenceOf?.[stack] ?? reference;
    lines.push(`## ${scenario.title}`, '');
    if (scenario.referenceOf) {
      const pairs = scenario.stacks
        .filter((s) => referenceOf(s) !== s)
        .map((s) => `${STACKS[s].label} to ${STACKS[referenceOf(s)].label}`);
      lines.push(`\`× ref\`: ${pairs.join('; ')}.`, '');
    } else if (scenario.reference) lines.push(`Reference for \`× ref\`: ${STACKS[reference].label}.`, '');
    if (scenario.note) lines.push(scenario.note, '');
    const header = ['stack'];
    for (const m of metrics) header.push(`${m.label} (${m.unit})`, ...(m.ratio ? ['× ref'] : []));
    lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const stack of scenario.stacks) {
      const problem = cases.find((c) => c.scenario === scenario.id && c.stack === stack && c.problem)?.problem;
      const row = [STACKS[stack].label];
      for (const m of metrics) {
        row.push(cell(summarise(values(cases, m, stack)), m.digits));
        if (m.ratio)
          row.push(
            stack === referenceOf(stack) ? '1' : ratioCell(summarise(ratios(cases, m, stack, referenceOf(stack)))),
          );
      }
      if (problem && row.slice(1).every((c) => c === '–' || c === '')) {
        lines.push(`| ${row[0]} | ${problem.replace(/\|/g, '/')} |${' |'.repeat(row.length - 2)}`);
      } else lines.push(`| ${row.join(' | ')} |`);
    }
    lines.push('');
    const notes = cases
      .filter((c) => c.scenario === scenario.id && c.problem)
      .map((c) => `- ${STACKS[c.stack].label}, run ${c.run}: ${c.problem}`);
    const rampNotes = cases
      .filter((c) => c.scenario === scenario.id && c.result?.ramp && c.result.ramp.note !== 'converged')
      .map((c) => `- ${STACKS[c.stack].label}, run ${c.run}: ramp ended: ${c.result!.ramp!.note}`);
    if (notes.length + rampNotes.length > 0) lines.push(...new Set([...notes, ...rampNotes]), '');
  }
  const others = cases
    .flatMap((c) => [
      c.result?.open.otherCpu,
      c.result?.fixed?.otherCpu,
      ...(c.result?.ramp?.steps.map((s) => s.otherCpu) ?? []),
    ])
    .filter((x): x is number => typeof x === 'number');
  if (others.length > 0) {
    const busy = others.filter((x) => x > 0.25).length;
    lines.push(
      `Machine noise: other processes used ${(others.reduce((a, b) => a + b, 0) / others.length).toFixed(2)} cores on average while measuring (more than 0.25 cores in ${busy} of ${others.length} measurements).`,
      '',
    );
  }
  lines.push(
    '## Targets',
    '',
    'Judged on the median over runs; losses on the worst run.',
    '',
    '| issue | target | measured | |',
    '|---|---|---|---|',
  );
  for (const t of targets(cases).filter((t) => profile.scenarios.some((s) => s.id === t.scenario))) {
    lines.push(
      `| ${t.issue} | ${t.label} | ${t.shown} | ${t.pass === undefined ? 'not measured' : t.pass ? 'met' : '**missed**'} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
