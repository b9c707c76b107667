/**
 * `encke serve …`: flags and config file → ServerOptions → a running server.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SANDBOX_WARNING, createServer, type ServerOptions } from '@encke/server';
import { pino } from 'pino';
import { loadConfigFile } from './config-file.js';

export const USAGE = `Usage: encke serve [options]

Starts an encke realtime server (Ably protocol over WebSocket, comet and REST).

Options:
  --port N          port to listen on (default 8080; 0 picks a free port)
  --host H          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --config FILE     JSON config file with apps, keys and options (see docs/configuration.md)
  --key K           a full-capability API key appId.keyId:secret (repeatable)
  --redis URL       join a cluster: share state through Redis (redis://[:password@]host:port[/db])
  --advertise-url U with --redis: the URL other nodes reach this one at (default: from --host/--port)
  --tls-cert FILE   PEM certificate chain: serve HTTPS and WSS (with --tls-key)
  --tls-key FILE    PEM private key of --tls-cert
  --sandbox         sandbox mode: POST /apps creates apps for SDK test suites, POST /stats loads stats
                    (unauthenticated: refused on a non-loopback --host unless --sandbox-public)
  --sandbox-public  let --sandbox listen on a non-loopback address (anyone reaching it can create apps)
  --log-level L     fatal, error, warn, info, debug or trace (default info; env LOG_LEVEL)
  -h, --help        show this help

With neither --config nor --key (nor --sandbox), a development app is created and its key printed.
`;

export interface ParsedCommand {
  command: 'serve' | 'help';
  options: ServerOptions;
  logLevel: string;
  devKey: string | undefined;
}

/** Parses argv (without node and script) into what to run. Throws Error with a usage message. */
export function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedCommand {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      key: { type: 'string', multiple: true },
      redis: { type: 'string' },
      'advertise-url': { type: 'string' },
      'log-level': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      sandbox: { type: 'boolean' },
      'sandbox-public': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const logLevel = values['log-level'] ?? env.LOG_LEVEL ?? 'info';
  if (values.help || positionals.length === 0 || positionals[0] === 'help') {
    return { command: 'help', options: {}, logLevel, devKey: undefined };
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) throw new Error(`Unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
  const options: ServerOptions = values.config ? loadConfigFile(values.config) : {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`--port must be a number from 0 to 65535, got ${values.port}`);
    options.port = port;
  }
  if (values.host !== undefined) options.host = values.host;
  if (values.key) options.keys = [...(options.keys ?? []), ...values.key];
  if (values.redis !== undefined) {
    if (!/^rediss?:\/\//.test(values.redis)) throw new Error(`--redis must be a redis:// or rediss:// URL, got ${values.redis}`);
    options.redis = values.redis;
  }
  if (values['advertise-url'] !== undefined) options.advertiseUrl = values['advertise-url'];
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new Error('--tls-cert and --tls-key must be given together');
  if (values['tls-cert'] !== undefined && values['tls-key'] !== undefined) {
    options.tlsCert = readPem(values['tls-cert'], '--tls-cert');
    options.tlsKey = readPem(values['tls-key'], '--tls-key');
  }
  if (values.sandbox) options.sandbox = true;
  if (values['sandbox-public']) options.sandboxPublic = true;
  let devKey: string | undefined;
  if (!options.apps?.length && !options.keys?.length && !options.sandbox) {
    devKey = `dev.${randomBytes(4).toString('hex')}:${randomBytes(18).toString('base64url')}`;
    options.keys = [devKey];
  }
  return { command: 'serve', options, logLevel, devKey };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`Cannot read ${flag} file ${path}: ${(err as Error).message}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseCommand(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const logger = pino({ level: parsed.logLevel, base: undefined });
  let server;
  try {
    server = createServer({ ...parsed.options, logger });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const address = await server.listen();
  const tls = parsed.options.tlsCert !== undefined;
  const scheme = tls ? 'https' : 'http';
  if (parsed.options.sandbox) {
    process.stdout.write(`\nencke is running in sandbox mode on ${scheme}://${address.address}:${address.port}: POST /apps creates an app.\n\n`);
    process.stderr.write(`WARNING: ${SANDBOX_WARNING}\n`);
  }
  if (parsed.devKey) {
    process.stdout.write(
      `\nencke is running on ${scheme}://${address.address}:${address.port} with a development app.\n` +
        `API key: ${parsed.devKey}\n` +
        `Connect with: new Ably.Realtime({ key: '${parsed.devKey}', endpoint: '${address.address}', ${tls ? `tlsPort: ${address.port}` : `port: ${address.port}, tls: false`} })\n\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'draining: clients are told to reconnect');
      server.drain().then(resolve, (err: unknown) => {
        logger.error({ err }, 'drain failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logger.info('stopped');
  return 0;
}
