/**
 * The development app's key, kept across restarts: `npm start` with no apps creates it once in a
 * small state file (git-ignored, readable by its owner only) and reuses it after, so the key pasted
 * into an app keeps working. `--key`, a config file or `--sandbox` mean no development app at all.
 */
import { isPlainObject, parseJson } from '@encke/protocol';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError, ExitCode } from './errors.js';

const DEV_KEY = /^dev\.[0-9a-f]{8}:[A-Za-z0-9_-]{24}$/;
const KEY_ID_BYTES = 4;
const SECRET_BYTES = 18;
const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIR = 0o700;

export interface DevKey {
  key: string;
  /** True when this start created it (and wrote the file). */
  created: boolean;
}

export function newDevKey(): string {
  return `dev.${randomBytes(KEY_ID_BYTES).toString('hex')}:${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** Reads the key from `path`, or creates it there. Throws CliError for a file that is not ours. */
export function loadOrCreateDevKey(path: string): DevKey {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError(`cannot read dev key file ${path}: ${(err as Error).message}`, ExitCode.usage);
  }
  if (text !== undefined) {
    const key = parseKeyFile(text);
    if (key === undefined)
      throw new CliError(
        `dev key file ${path} does not hold a development key (delete it to create a new one)`,
        ExitCode.usage,
      );
    return { key, created: false };
  }
  const key = newDevKey();
  try {
    mkdirSync(dirname(path), { recursive: true, mode: OWNER_ONLY_DIR });
    writeFileSync(path, `${JSON.stringify({ key }, null, 2)}\n`, { mode: OWNER_ONLY_FILE, flag: 'wx' });
  } catch (err) {
    throw new CliError(`cannot write dev key file ${path}: ${(err as Error).message}`, ExitCode.startFailed);
  }
  return { key, created: true };
}

function parseKeyFile(text: string): string | undefined {
  try {
    const value = parseJson(text);
    return isPlainObject(value) && typeof value.key === 'string' && DEV_KEY.test(value.key) ? value.key : undefined;
  } catch {
    return undefined;
  }
}
