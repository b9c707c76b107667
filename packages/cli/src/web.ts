/**
 * The chat demo and the admin dashboard, as `encke serve` sets them up. In development mode (no
 * config, no key) both are on: the chat (the @encke/chat package: examples/chat of this clone, built
 * by `npm run build`, or its installed tarball) at `/`, and the dashboard at `/admin` behind a password made up for this run, printed as a ready
 * link (`/admin#password=…`: the fragment never reaches a server or a log). With a config file the
 * chat is on only with `--demo` (or `"demo": true`), the dashboard only with `adminPassword`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AppConfig, ServerOptions } from '@encke/server';

/**
 * The built chat: `dist/` of the @encke/chat package (examples/chat, a workspace of this clone, or
 * installed beside this one from its tarball), or undefined when it is not installed.
 */
export function chatDist(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@encke/chat/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

const ADMIN_PASSWORD_BYTES = 18;

export interface WebSetup {
  /** The dashboard password made up for this run (development mode), to print as a link. */
  devAdminPassword: string | undefined;
}

/** Fills in the demo and dashboard options: `dev` is development mode, `demo` the --demo flag. */
export function setUpWeb(options: ServerOptions, dev: boolean, demo: boolean): WebSetup {
  if (dev || demo) options.demo = true;
  if (options.demo && options.demoAssets === undefined) options.demoAssets = chatDist();
  let devAdminPassword: string | undefined;
  if (dev && options.adminPassword === undefined) {
    devAdminPassword = randomBytes(ADMIN_PASSWORD_BYTES).toString('base64url');
    options.adminPassword = devAdminPassword;
  }
  return { devAdminPassword };
}

/** The development app of `key`: its `chat` namespace persisted, so a chat room keeps a day of history (not two minutes). */
export function devApp(key: string): AppConfig {
  return { id: key.slice(0, key.indexOf('.')), keys: [{ key }], namespaces: [{ id: 'chat', persisted: true }] };
}

/** Banner lines saying where the chat and the dashboard are. */
export function webBanner(url: string, options: ServerOptions, setup: WebSetup): string[] {
  const lines: string[] = [];
  if (options.demo) {
    const dir = options.demoAssets;
    if (dir === undefined)
      lines.push(
        `Chat demo:        not installed: install the @encke/chat package beside encke (${url}/ says so meanwhile)`,
      );
    else if (existsSync(join(dir, 'index.html'))) lines.push(`Chat demo:        ${url}/   (open it in two windows)`);
    else lines.push(`Chat demo:        not built: run npm run build, then restart (${url}/ says so meanwhile)`);
  }
  if (setup.devAdminPassword !== undefined)
    lines.push(`Admin dashboard:  ${url}/admin#password=${setup.devAdminPassword}`);
  else if (options.adminPassword !== undefined)
    lines.push(`Admin dashboard:  ${url}/admin   (sign in with the adminPassword of the config)`);
  return lines;
}
