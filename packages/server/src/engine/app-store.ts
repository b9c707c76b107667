/** Sandbox apps as the engine keeps them, visible to every node. */
import type { AppRecord, CreateAppResult } from '../apps/record.js';

/** Apps created at runtime (sandbox `POST /apps`), visible to every node. */
export interface AppStore {
  /** Stores `record` unless its id is taken or `maxApps` apps exist. */
  create(record: AppRecord, maxApps: number): Promise<CreateAppResult>;
  /** The app, unless unknown or expired. */
  get(appId: string): Promise<AppRecord | undefined>;
  delete(appId: string): Promise<boolean>;
}
