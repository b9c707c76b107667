/**
 * The config file: JSON holding any plain-valued server option plus `apps`. Unknown fields are
 * errors (a typo must not silently fall back to a default). Documented in docs/configuration.md.
 */
import { parseJson, isArrayValue } from '@encke/protocol';
import { readFileSync } from 'node:fs';
import { DEFAULTS, type ServerOptions } from '@encke/server';

const FILE_OPTIONS = new Set<string>([
  ...Object.keys(DEFAULTS),
  'adminPassword',
  'advertiseUrl',
  'apps',
  'demoAssets',
  'demoKey',
  'keys',
  'metricsToken',
  'redis',
  'serverId',
]);

export function loadConfigFile(path: string): ServerOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseJson(text) as unknown;
  } catch (err) {
    throw new Error(`Config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`Config file ${path} must hold a JSON object`);
  const config = value as Record<string, unknown>;
  for (const [field, v] of Object.entries(config)) {
    if (!FILE_OPTIONS.has(field)) throw new Error(`Config file ${path}: unknown field "${field}"`);
    const expected = typeof (DEFAULTS as Record<string, unknown>)[field];
    if (expected !== 'undefined' && typeof v !== expected)
      throw new Error(`Config file ${path}: "${field}" must be a ${expected}`);
  }
  if (config.advertiseUrl !== undefined && typeof config.advertiseUrl !== 'string')
    throw new Error(`Config file ${path}: "advertiseUrl" must be a URL string`);
  for (const field of ['adminPassword', 'demoAssets', 'demoKey', 'metricsToken'] as const) {
    if (config[field] !== undefined && typeof config[field] !== 'string')
      throw new Error(`Config file ${path}: "${field}" must be a string`);
  }
  if (config.serverId !== undefined && typeof config.serverId !== 'string')
    throw new Error(`Config file ${path}: "serverId" must be a string`);
  if (config.redis !== undefined && typeof config.redis !== 'string')
    throw new Error(`Config file ${path}: "redis" must be a URL string`);
  if (config.apps !== undefined && !isArrayValue(config.apps))
    throw new Error(`Config file ${path}: "apps" must be an array`);
  if (config.keys !== undefined && (!isArrayValue(config.keys) || !config.keys.every((k) => typeof k === 'string'))) {
    throw new Error(`Config file ${path}: "keys" must be an array of key strings`);
  }
  return config as ServerOptions;
}
