/**
 * multipart/x-mixed-replace (and multipart/mixed) streaming: each batch is one `application/json`
 * part. Each part is followed at once by the next boundary, because a reader (Chromium's among
 * them) hands a part over only when it sees the boundary after it. JSON text holds no raw CR or LF,
 * so `\r\n--<boundary>` can never occur inside a part.
 */
import type { OutboundFrame } from '../../../wire/frame.js';
import { jsonArray, type Framing, type WholeAnswer } from './framing.js';

export const MULTIPART_BOUNDARY = 'encke-batch';
const PART_HEAD = 'Content-Type: application/json\r\n\r\n';
const NEXT = `\r\n--${MULTIPART_BOUNDARY}\r\n`;

export class MultipartFraming implements Framing {
  readonly name: 'multipart' | 'mixed';
  readonly contentType: string;
  readonly streams = true;

  constructor(kind: 'x-mixed-replace' | 'mixed') {
    this.name = kind === 'mixed' ? 'mixed' : 'multipart';
    this.contentType = `multipart/${kind}; boundary=${MULTIPART_BOUNDARY}`;
  }

  preamble(): string {
    return `--${MULTIPART_BOUNDARY}\r\n`;
  }

  batch(frames: readonly OutboundFrame[]): string {
    return PART_HEAD + jsonArray(frames) + NEXT;
  }

  /** An empty last part, then the closing delimiter. */
  epilogue(): string {
    return `${PART_HEAD}[]\r\n--${MULTIPART_BOUNDARY}--\r\n`;
  }

  whole(frames: readonly OutboundFrame[], status: number): WholeAnswer {
    return { status, body: this.preamble() + PART_HEAD + jsonArray(frames) + `\r\n--${MULTIPART_BOUNDARY}--\r\n` };
  }
}
