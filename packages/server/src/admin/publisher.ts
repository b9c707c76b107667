/**
 * Publishes this node's dashboard snapshot on the admin app's `dashboard` channel every
 * `adminPublishInterval`, while some dashboard is subscribed (here, or on any node of a cluster):
 * the dashboard is fed by encke itself, through the same publish path as any REST publish, so a
 * dashboard on one node hears every node. No dashboard open, nothing published.
 */
import { DASHBOARD_SNAPSHOT } from '@encke/protocol';
import type { App } from '../apps/app.js';
import type { AuthContext } from '../auth/authenticate.js';
import type { PublishSource } from '../channels/publisher.js';
import type { NodeContext } from '../context.js';
import { channelKey } from '../engine/channel-store.js';
import type { TimerHandle } from '../util/clock.js';
import { randomId } from '../util/ids.js';
import { DASHBOARD_CHANNEL, publisherAuth } from './admin-app.js';
import type { MetricsReader } from './metrics-source.js';
import { LoadSampler, takeSnapshot, type SnapshotSource } from './snapshot.js';

export class DashboardPublisher {
  private timer: TimerHandle | undefined;
  private busy = false;
  private readonly auth: AuthContext;
  private readonly source: SnapshotSource;

  constructor(
    private readonly ctx: NodeContext,
    private readonly app: App,
    metrics: MetricsReader,
  ) {
    this.auth = publisherAuth(app);
    this.source = { ctx, metrics, load: new LoadSampler(), startedAt: ctx.clock.now() };
  }

  start(): void {
    this.timer ??= this.ctx.clock.setInterval(() => void this.tick(), this.ctx.options.adminPublishInterval);
  }

  stop(): void {
    this.ctx.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.source.load.stop();
  }

  /** Whether a dashboard listens: attached here, or (shared engine) on any node. */
  private async watched(): Promise<boolean> {
    if ((this.ctx.channels.get(this.app.id, DASHBOARD_CHANNEL)?.subscriberCount ?? 0) > 0) return true;
    if (!this.ctx.engine.shared) return false;
    const occupancy = await this.ctx.engine.channels.occupancy(channelKey(this.app.id, DASHBOARD_CHANNEL));
    return (occupancy?.subscribers ?? 0) > 0;
  }

  /** One snapshot, unless the previous one is still under way or nobody watches. Never rejects. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (!(await this.watched())) return;
      const snapshot = await takeSnapshot(this.source);
      const source: PublishSource = {
        auth: this.auth,
        clientId: undefined,
        connectionId: undefined,
        idPrefix: randomId(12),
        transport: 'rest',
      };
      await this.ctx.publisher.publish(source, DASHBOARD_CHANNEL, [
        { name: DASHBOARD_SNAPSHOT, data: JSON.stringify(snapshot), encoding: 'json' },
      ]);
    } catch (err) {
      this.ctx.logger.warn({ err }, 'dashboard snapshot failed');
    } finally {
      this.busy = false;
    }
  }
}
