/** The memory engine's app store: sandbox apps until they expire or are deleted. */
import type { AppRecord, CreateAppResult } from '../../apps/record.js';
import type { Clock } from '../../util/clock.js';
import type { AppStore } from '../app-store.js';

export class MemoryApps implements AppStore {
  private readonly apps = new Map<string, AppRecord>();

  constructor(private readonly clock: Clock) {}

  create(record: AppRecord, maxApps: number): Promise<CreateAppResult> {
    this.sweep();
    const id = record.config.id;
    if (this.apps.has(id)) return Promise.resolve('exists');
    if (this.apps.size >= maxApps) return Promise.resolve('full');
    this.apps.set(id, record);
    return Promise.resolve('created');
  }

  get(appId: string): Promise<AppRecord | undefined> {
    const record = this.apps.get(appId);
    if (record && record.expires <= this.clock.now()) {
      this.apps.delete(appId);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(record);
  }

  delete(appId: string): Promise<boolean> {
    return Promise.resolve(this.apps.delete(appId));
  }

  /** Forgets expired apps. */
  sweep(): void {
    const now = this.clock.now();
    for (const [id, record] of this.apps) if (record.expires <= now) this.apps.delete(id);
  }
}
