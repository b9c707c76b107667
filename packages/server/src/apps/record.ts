/**
 * An app as the engine stores it (sandbox apps made by `POST /apps`): plain, JSON-serialisable,
 * already validated. Every node builds the same `App` from it with `buildApp`.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
import type { AppConfig } from './config.js';

/** A presence member the app description asks to be present on a channel from the start. */
export interface PresenceFixture {
  clientId: string;
  data?: string;
  encoding?: string;
}

export interface ChannelFixture {
  name: string;
  presence: PresenceFixture[];
}

export interface AppRecord {
  readonly config: AppConfig;
  readonly accountId: string;
  /** When the app was created (ms). */
  readonly created: number;
  /** When the store forgets the app (ms). */
  readonly expires: number;
  /** Limits from the app description (`{presence: {maxMembers: 250}}`), kept as given. */
  readonly limits?: Record<string, Record<string, number>>;
  /** Channels with pre-entered presence members (seeded by the presence store). */
  readonly channels?: ChannelFixture[];
}

/**
 * Whether a value read back from a store (Redis JSON) has an AppRecord's shape: what is read of it
 * before `buildApp` validates the config in full (id, created, expires; keys, channels, limits as
 * the right kind of value). `buildApp` checks every key and namespace.
 */
export function isAppRecord(value: unknown): value is AppRecord {
  if (!isPlainObject(value)) return false;
  const { config, channels, limits } = value;
  return (
    isPlainObject(config) &&
    typeof config.id === 'string' &&
    isArrayValue(config.keys) &&
    typeof value.accountId === 'string' &&
    typeof value.created === 'number' &&
    typeof value.expires === 'number' &&
    (channels === undefined || isArrayValue(channels)) &&
    (limits === undefined || isPlainObject(limits))
  );
}

/** What `AppStore.create` did. */
export type CreateAppResult = 'created' | 'exists' | 'full';
