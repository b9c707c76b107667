/**
 * The command's logger: pino writing one JSON object per line (for log collectors: journald, Loki,
 * CloudWatch…), or a short human form for terminals. Levels are written as names, times as ISO 8601.
 */
import { isPlainObject, parseJson } from '@encke/protocol';
import { pino, type Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where log lines go: anything with `write(line)` (stdout by default). */
export interface LineSink {
  write(line: string): unknown;
  isTTY?: boolean;
}

export function createLogger(
  level: LogLevelName,
  format: LogFormat | undefined,
  out: LineSink = process.stdout,
): PinoLogger {
  const chosen = format ?? (out.isTTY ? 'pretty' : 'json');
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(options, chosen === 'pretty' ? new PrettySink(out, out.isTTY === true) : out);
}

const COLORS: Record<string, string> = { fatal: '35', error: '31', warn: '33', info: '32', debug: '36', trace: '90' };
const FIXED = new Set(['level', 'time', 'msg']);

/** `12:00:01.234 INFO  encke listening host=127.0.0.1 port=8080`, coloured on a terminal. */
export class PrettySink {
  constructor(
    private readonly out: LineSink,
    private readonly color: boolean,
  ) {}

  write(line: string): void {
    const record = logRecord(line);
    // Not a JSON object (pino writes nothing else): written as it came.
    this.out.write(record === undefined ? line : `${formatPretty(record, this.color)}\n`);
  }
}

/** A pino line as its JSON object; undefined for anything else. */
function logRecord(line: string): Record<string, unknown> | undefined {
  try {
    const value = parseJson(line);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function formatPretty(record: Record<string, unknown>, color = false): string {
  const level = String(record.level ?? '');
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const label = level.toUpperCase().padEnd(5);
  const tag = color && COLORS[level] ? `\x1b[${COLORS[level]}m${label}\x1b[0m` : label;
  const fields = Object.entries(record)
    .filter(([k]) => !FIXED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return [time, tag, String(record.msg ?? ''), ...fields].filter((p) => p !== '').join(' ');
}
