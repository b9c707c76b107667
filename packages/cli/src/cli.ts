/**
 * `encke serve …`: flags and config file → a running server, its logs and banner, and a drain on
 * SIGTERM/SIGINT. Failures are one line on stderr with an exit status (errors.ts).
 */
import { isPlainObject, parseJson } from '@encke/protocol';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type EnckeNode } from '@encke/server';
import type { Logger as PinoLogger } from 'pino';
import { parseCommand, USAGE, type ServeCommand } from './args.js';
import { banner, baseUrl } from './banner.js';
import { loadOrCreateDevKey, type DevKey } from './dev-key.js';
import { CliError, ExitCode, startError } from './errors.js';
import { createLogger } from './log.js';
import { onStop } from './signals.js';
import { devApp, webBanner } from './web.js';

export { parseCommand, USAGE, VALID_FLAGS, DEV_KEY_FILE, type ParsedCommand, type ServeCommand } from './args.js';
export { CliError, ExitCode } from './errors.js';
export { createLogger, formatPretty } from './log.js';

/** Longest wait (ms) for a server that failed to start to release what it had opened. */
const CLOSE_AFTER_FAILURE_LIMIT = 2000;

/** The `version` of package.json text; 'unknown' if it has none (a damaged install still runs). */
function versionOf(text: string): string {
  const pkg = parseJson(text);
  return isPlainObject(pkg) && typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** This package's version (package.json ships in the tarball beside dist/). */
export const VERSION = versionOf(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

export async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseCommand(argv);
    if (parsed.command === 'help') {
      process.stdout.write(USAGE);
      return ExitCode.ok;
    }
    if (parsed.command === 'version') {
      process.stdout.write(`${VERSION}\n`);
      return ExitCode.ok;
    }
    return await serve(parsed);
  } catch (err) {
    const e = err instanceof CliError ? err : new CliError((err as Error).message ?? String(err), ExitCode.usage);
    process.stderr.write(`encke: ${e.message.split('\n')[0]}\n`);
    return e.exitCode;
  }
}

async function serve(cmd: ServeCommand): Promise<number> {
  const logger = createLogger(cmd.logLevel, cmd.logFormat);
  exitOnUncaught(logger);
  let devKey: DevKey | undefined;
  if (cmd.devKeyFile !== undefined) {
    devKey = loadOrCreateDevKey(cmd.devKeyFile);
    cmd.options.apps = [devApp(devKey.key)];
  }
  let server: EnckeNode;
  try {
    server = createServer({ ...cmd.options, logger });
  } catch (err) {
    const where = cmd.configPath === undefined ? '' : `config file ${cmd.configPath}: `;
    throw new CliError(`${where}${(err as Error).message}`, ExitCode.usage);
  }
  const stopping = waitForStop(server, cmd, logger);
  let address: Awaited<ReturnType<EnckeNode['listen']>>;
  try {
    address = await server.listen();
  } catch (err) {
    // Release what did start (e.g. Redis when the port was taken), but never wait on it for long.
    await Promise.race([server.close().catch(() => undefined), sleep(CLOSE_AFTER_FAILURE_LIMIT)]);
    throw startError(err, server.options.host, server.options.port);
  }
  const file = cmd.devKeyFile;
  process.stderr.write(
    banner({
      version: VERSION,
      address,
      tls: cmd.options.tlsCert !== undefined,
      sandbox: cmd.options.sandbox === true,
      devKey: devKey && file !== undefined ? { ...devKey, file } : undefined,
      web: webBanner(baseUrl(address, cmd.options.tlsCert !== undefined), cmd.options, cmd.web),
    }),
  );
  return stopping;
}

/**
 * The process's last resort: the server isolates faults per connection (`node.faults`), so an
 * exception that gets this far is a bug outside any connection. It is logged as one and the process
 * exits (never kept running in an unknown state); the supervisor restarts it, clients resume.
 */
function exitOnUncaught(logger: PinoLogger): void {
  const fatal =
    (kind: string) =>
    (err: unknown): void => {
      logger.fatal({ err, kind }, 'uncaught error outside any connection: exiting');
      process.exit(ExitCode.software);
    };
  process.on('uncaughtException', fatal('uncaughtException'));
  process.on('unhandledRejection', fatal('unhandledRejection'));
}

/**
 * Resolves with the exit status once a stop signal has drained the server. Later signals do not cut
 * the drain short (it is bounded by --drain-delay + --drain-timeout): Ctrl-C under `npm start`
 * reaches the server twice, from the terminal and forwarded by npm.
 */
function waitForStop(server: EnckeNode, cmd: ServeCommand, logger: PinoLogger): Promise<number> {
  return new Promise((resolve) => {
    let draining = false;
    const unsubscribe = onStop((reason) => {
      if (draining) {
        logger.info({ reason }, 'already draining');
        return;
      }
      draining = true;
      void drain(server, cmd, logger, reason).then(() => {
        unsubscribe();
        resolve(ExitCode.ok);
      });
    });
  });
}

async function drain(server: EnckeNode, cmd: ServeCommand, logger: PinoLogger, reason: string): Promise<void> {
  server.startDraining();
  logger.info(
    { reason, drainDelay: cmd.drainDelay, drainTimeout: cmd.drainTimeout },
    'draining: /ready answers 503, then clients are told to reconnect',
  );
  if (cmd.drainDelay > 0) await sleep(cmd.drainDelay);
  try {
    await server.drain(cmd.drainTimeout);
  } catch (err) {
    logger.error({ err }, 'drain failed');
  }
  logger.info('stopped');
}
