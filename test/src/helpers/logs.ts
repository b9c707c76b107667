/** A Logger that records what the server logs, for tests that check what is (not) logged at which level. */
import type { Logger } from '@encke/server';

export type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface LogEntry {
  level: Level;
  msg: string;
  fields: Record<string, unknown>;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  private log(level: Level): (a: object | string, b?: string) => void {
    return (a, b) => {
      if (typeof a === 'string') this.entries.push({ level, msg: a, fields: {} });
      else this.entries.push({ level, msg: b ?? '', fields: a as Record<string, unknown> });
    };
  }

  readonly fatal = this.log('fatal');
  readonly error = this.log('error');
  readonly warn = this.log('warn');
  readonly info = this.log('info');
  readonly debug = this.log('debug');
  readonly trace = this.log('trace');
  isLevelEnabled(): boolean {
    return true;
  }
  child(): Logger {
    return this;
  }

  at(level: Level): LogEntry[] {
    return this.entries.filter((e) => e.level === level);
  }
}
