import type { ApiKey, App } from './app.js';

/** Every app this node knows, and their keys by name (`appId.keyId`). */
export class AppRegistry {
  private readonly apps = new Map<string, App>();
  private readonly keys = new Map<string, ApiKey>();

  add(app: App): void {
    if (this.apps.has(app.id)) throw new Error(`Duplicate app id "${app.id}"`);
    this.apps.set(app.id, app);
    for (const key of app.keys) this.keys.set(key.name, key);
  }

  remove(appId: string): boolean {
    const app = this.apps.get(appId);
    if (!app) return false;
    for (const key of app.keys) this.keys.delete(key.name);
    return this.apps.delete(appId);
  }

  get(appId: string): App | undefined {
    return this.apps.get(appId);
  }

  findKey(keyName: string): ApiKey | undefined {
    return this.keys.get(keyName);
  }

  all(): IterableIterator<App> {
    return this.apps.values();
  }

  get size(): number {
    return this.apps.size;
  }
}
