/**
 * A reader of text/event-stream and line-delimited JSON streams over node:http, for the SSE tests:
 * parses events as the HTML spec says (fields, comments, the last event id), keeps everything it
 * read, and can be cut from the test at any moment (the socket destroyed, as a network drop).
 */
import { parseJson } from '@encke/protocol';
import { request, type IncomingMessage } from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
  /** The last event id after this event (the browser's `lastEventId`). */
  lastEventId: string;
}

export class EventStreamReader {
  readonly events: SseEvent[] = [];
  /** Comment lines (without the colon), e.g. `keepalive`. */
  readonly comments: string[] = [];
  /** Lines of a JSON stream, parsed (empty lines count as keepalives). */
  readonly lines: unknown[] = [];
  keepalives = 0;
  raw = '';
  lastEventId = '';
  ended = false;
  private buffer = '';
  private fields: { event?: string; data: string[] } = { data: [] };
  private waiters: (() => void)[] = [];

  private constructor(
    readonly res: IncomingMessage,
    private readonly style: 'sse' | 'json',
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.onData(chunk));
    res.on('end', () => this.onEnd());
    res.on('close', () => this.onEnd());
    res.on('error', () => this.onEnd());
  }

  /** Opens `url`; resolves with the reader once the answer's head has arrived. */
  static open(
    url: string,
    headers: Record<string, string> = {},
    style: 'sse' | 'json' = 'sse',
  ): Promise<EventStreamReader> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers }, (res) => resolve(new EventStreamReader(res, style)));
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  private onData(chunk: string): void {
    this.raw += chunk;
    this.buffer += chunk;
    for (;;) {
      const nl = this.buffer.search(/\r\n|\r|\n/);
      if (nl < 0) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(this.buffer[nl] === '\r' && this.buffer[nl + 1] === '\n' ? nl + 2 : nl + 1);
      if (this.style === 'sse') this.sseLine(line);
      else this.jsonLine(line);
    }
    this.wake();
  }

  private jsonLine(line: string): void {
    if (line === '') this.keepalives++;
    else this.lines.push(parseJson(line));
  }

  private sseLine(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') this.fields.data.push(value);
    else if (name === 'event') this.fields.event = value;
    else if (name === 'id' && !value.includes('\0')) this.lastEventId = value;
  }

  /** As a browser does: an event with no data line is not dispatched (its id still counts). */
  private dispatch(): void {
    const { event, data } = this.fields;
    this.fields = { data: [] };
    if (data.length === 0) {
      if (event === 'heartbeat') this.events.push({ event, data: '', lastEventId: this.lastEventId });
      return;
    }
    this.events.push({ event: event ?? 'message', data: data.join('\n'), lastEventId: this.lastEventId });
  }

  private onEnd(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `ready()` holds; rejects on timeout (or when the stream ended first). */
  async until(ready: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.ended) throw new Error(`stream ended while waiting for ${what}; raw: ${this.raw.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; raw: ${this.raw.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for at least `n` events named `event`, and returns them. */
  async eventsNamed(event: string, n: number, timeoutMs = 5000): Promise<SseEvent[]> {
    await this.until(() => this.events.filter((e) => e.event === event).length >= n, `${n} ${event} events`, timeoutMs);
    return this.events.filter((e) => e.event === event);
  }

  async waitEnd(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream did not end within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Cuts the stream as a network drop would (the socket destroyed). */
  cut(): void {
    this.res.socket?.destroy();
  }

  /** The body of a non-streamed answer (an HTTP error). */
  async body(): Promise<string> {
    await this.waitEnd();
    return this.raw;
  }
}
