/**
 * Every app this node can serve: the configured ones (from the config file and `--key`), kept
 * here, and the sandbox ones (`POST /apps`), kept in the engine's app store so that every node
 * sees them, and looked up there on each authentication.
 */
import type { AppStore } from '../engine/app-store.js';
import type { ApiKey, App } from './app.js';
import { buildApp } from './config.js';

/** Apps built from store records are cached by id; past this many the cache starts again. */
const BUILT_APPS_CACHED = 1000;

export interface KeyLookup {
  key: ApiKey;
  app: App;
}

export class AppRegistry {
  private readonly apps = new Map<string, App>();
  private readonly keys = new Map<string, ApiKey>();
  /** Apps built from store records, with the record's creation time (a re-created id is rebuilt). */
  private readonly built = new Map<string, { created: number; app: App }>();

  constructor(private readonly store?: AppStore) {}

  /** Apps the server made for itself (the admin dashboard's): served like any other, never listed. */
  private readonly internal = new Set<string>();

  /** Adds a configured app. */
  add(app: App): void {
    if (this.apps.has(app.id)) throw new Error(`Duplicate app id "${app.id}"`);
    this.apps.set(app.id, app);
    for (const key of app.keys) this.keys.set(key.name, key);
  }

  /** Adds an app of the server's own: it authenticates like a configured app but `all()` leaves it out. */
  addInternal(app: App): void {
    this.add(app);
    this.internal.add(app.id);
  }

  remove(appId: string): boolean {
    this.built.delete(appId);
    this.internal.delete(appId);
    const app = this.apps.get(appId);
    if (!app) return false;
    for (const key of app.keys) this.keys.delete(key.name);
    return this.apps.delete(appId);
  }

  /** A configured app. */
  get(appId: string): App | undefined {
    return this.apps.get(appId);
  }

  /** A key of a configured app. */
  findKey(keyName: string): ApiKey | undefined {
    return this.keys.get(keyName);
  }

  /** A configured app, or else one in the engine's app store. */
  async lookupApp(appId: string): Promise<App | undefined> {
    const configured = this.apps.get(appId);
    if (configured || !this.store) return configured;
    const record = await this.store.get(appId);
    if (!record) {
      this.built.delete(appId);
      return undefined;
    }
    const cached = this.built.get(appId);
    if (cached?.created === record.created) return cached.app;
    const app = buildApp(record.config, `app ${appId}`);
    if (this.built.size >= BUILT_APPS_CACHED) this.built.clear();
    this.built.set(appId, { created: record.created, app });
    return app;
  }

  /**
   * A configured key and its app, found without waiting: undefined when the key is not configured
   * (it may still be in the store: `lookupKey`). Connection opens take this path first, so that a
   * configured key is verified in the same tick as the upgrade (no promise, no microtask hop).
   */
  configuredKey(keyName: string): KeyLookup | undefined {
    const key = this.keys.get(keyName);
    const app = key && this.apps.get(key.appId);
    return key && app ? { key, app } : undefined;
  }

  /** The key named `appId.keyId` and its app, configured or in the store. */
  async lookupKey(keyName: string): Promise<KeyLookup | undefined> {
    if (this.keys.has(keyName)) return this.configuredKey(keyName);
    const dot = keyName.indexOf('.');
    if (dot <= 0) return undefined;
    const app = await this.lookupApp(keyName.slice(0, dot));
    const found = app?.keys.find((k) => k.name === keyName);
    return app && found ? { key: found, app } : undefined;
  }

  /** Configured apps (not the server's internal ones). */
  *all(): Generator<App, void, undefined> {
    for (const app of this.apps.values()) if (!this.internal.has(app.id)) yield app;
  }

  get size(): number {
    return this.apps.size;
  }
}
