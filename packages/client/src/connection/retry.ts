/**
 * Retry timing (RTB1) and the transport order: the configured or default list, the transport that
 * last worked for this host first, transports that failed or stalled this session last.
 */
import type { TransportName } from '../transports/names.js';

/** RTB1a: the backoff coefficient of the n-th retry (n from 1): 1, 4/3, 5/3, 2, 2, … */
export function backoff(retry: number): number {
  return Math.min((retry + 2) / 3, 2);
}

/** RTB1b: a jitter coefficient in [0.8, 1]. */
export function jitter(random: () => number = Math.random): number {
  return 1 - random() * 0.2;
}

export function retryDelay(base: number, retry: number, random?: () => number): number {
  return Math.round(base * backoff(retry) * jitter(random));
}

const memory = new Map<string, string>();
const STORAGE_PREFIX = 'encke.transport.';

function storage(): Storage | undefined {
  try {
    return (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    return undefined;
  }
}

/** The transport that last connected to `host`, if any. */
export function rememberedTransport(host: string): string | undefined {
  return storage()?.getItem(STORAGE_PREFIX + host) ?? memory.get(host);
}

export function rememberTransport(host: string, name: TransportName): void {
  memory.set(host, name);
  try {
    storage()?.setItem(STORAGE_PREFIX + host, name);
  } catch {
    // storage full or denied: memory still has it
  }
}

/** The order to try: `base`, with the remembered one first and the demoted ones last. */
export function transportOrder(
  base: readonly TransportName[],
  remembered: string | undefined,
  demoted: ReadonlySet<string>,
): TransportName[] {
  const order = base.filter((t) => !demoted.has(t));
  const idx = remembered === undefined ? -1 : order.indexOf(remembered as TransportName);
  if (idx > 0) order.unshift(...order.splice(idx, 1));
  return [...order, ...base.filter((t) => demoted.has(t))];
}
