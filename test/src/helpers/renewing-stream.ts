/**
 * A streaming comet connection that renews its recv as ably-js does (the next recv as soon as a
 * stream ends), keeping what each stream carried apart: for the tests of when streams end
 * (comet-renewal, comet-renewal-spread).
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { eventually } from './ably.js';
import { JSON_TYPE, cometRequest } from './raw-comet.js';
import { KEYS } from './server.js';

const AUTH = `key=${encodeURIComponent(KEYS.full)}`;

export class RenewingStream {
  /** Per stream, in order: the protocol messages it carried. */
  readonly streams: ProtocolMessage[][] = [];
  connectionId = '';
  private key = '';
  private running = true;
  private readonly agent = new Agent({ keepAlive: true });

  constructor(
    private readonly port: number,
    /** Called as each stream ends, before the next recv is made. */
    private readonly ended: () => void = () => undefined,
  ) {}

  /** Connects (the connect request is the first stream); resolves once CONNECTED came. */
  async open(): Promise<void> {
    void this.run(`/comet/connect?${AUTH}&heartbeats=true&v=6`);
    await eventually(() => this.key !== '', 5000, 'CONNECTED');
  }

  /** POSTs `frames` on the connection's send path (204 expected). */
  async send(frames: ProtocolMessage[]): Promise<void> {
    const res = await cometRequest(this.port, `/comet/${this.key}/send?${AUTH}`, {
      method: 'POST',
      agent: this.agent,
      body: JSON.stringify(frames),
      headers: { 'content-type': JSON_TYPE },
    });
    assert.equal(res.status, 204);
  }

  /** Whether any stream carried a message satisfying `is`. */
  carried(is: (pm: ProtocolMessage) => boolean): boolean {
    return this.streams.some((s) => s.some(is));
  }

  async close(): Promise<void> {
    this.running = false;
    await cometRequest(this.port, `/comet/${this.key}/close?${AUTH}`, { agent: this.agent }).catch(() => undefined);
    this.agent.destroy();
  }

  private async run(first: string): Promise<void> {
    let path = first;
    while (this.running) {
      const got: ProtocolMessage[] = [];
      this.streams.push(got);
      await cometRequest(this.port, path, {
        agent: this.agent,
        headers: { accept: JSON_TYPE },
        onBatch: (batch) => {
          for (const pm of batch) {
            got.push(pm);
            if (pm.action === Action.CONNECTED) {
              this.connectionId = pm.connectionId!;
              this.key = pm.connectionDetails!.connectionKey!;
            }
          }
        },
      }).catch(() => (this.running = false));
      if (this.running) this.ended();
      path = `/comet/${this.key}/recv?${AUTH}`;
    }
  }
}
