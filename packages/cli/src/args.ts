/**
 * `encke` command line: flags and the config file → what to run. Pure apart from reading the files
 * it is pointed at; every refusal is a CliError with a one-line message and the exit status.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ServerOptions } from '@encke/server';
import { loadConfigFile } from './config-file.js';
import { setUpWeb, type WebSetup } from './web.js';
import { CliError, ExitCode } from './errors.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from './log.js';

export const DEV_KEY_FILE = '.encke/dev-key.json';
export const DEFAULT_DRAIN_TIMEOUT = 5000;

export const USAGE = `Usage: encke serve [options]
       encke --version | --help

Starts an encke realtime server (Ably protocol over WebSocket, comet and REST).

Options:
  --port N                    port to listen on (default 8080; 0 picks a free port)
  --host H                    address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --config FILE               JSON config file with apps, keys and options (see docs/configuration.md)
  --key K                     a full-capability API key appId.keyId:secret (repeatable)
  --redis URL                 join a cluster: share state through Redis (redis://[:password@]host:port[/db])
  --redis-connect-timeout MS  how long a start retries an unreachable Redis before exiting 1 (default 10000)
  --advertise-url U           with --redis: the URL other nodes reach this one at (default: from --host/--port)
  --tls-cert FILE             PEM certificate chain: serve HTTPS and WSS (with --tls-key)
  --tls-key FILE              PEM private key of --tls-cert
  --sandbox                   sandbox mode: POST /apps creates apps for SDK test suites, POST /stats loads stats
                              (unauthenticated: refused on a non-loopback --host unless --sandbox-public)
  --sandbox-public            let --sandbox listen on a non-loopback address (anyone reaching it can create apps)
  --demo                      serve the chat demo at / (and its token endpoint) with a config file too
  --metrics-token T           require "Authorization: Bearer T" on GET /metrics (default: open; env METRICS_TOKEN)
  --log-level L               fatal, error, warn, info, debug, trace or silent (default info; env LOG_LEVEL)
  --log-format F              json or pretty (default pretty when stdout is a terminal, else json; env LOG_FORMAT)
  --drain-delay MS            on SIGTERM/SIGINT, answer 503 on /ready this long before draining (default 0)
  --drain-timeout MS          then wait this long for clients to leave before closing them (default 5000)
  --dev-key-file FILE         where the development app's key is kept (default ${DEV_KEY_FILE})
  -v, --version               print the version
  -h, --help                  show this help

With neither --config nor --key (nor --sandbox), a development app is used: its key is created once,
kept in the dev key file and printed at every start; the chat demo is served at / and the admin
dashboard at /admin, with a ready link printed (its password is made up for each start).
Exit status: 0 after a drain, 1 when the server cannot start (port in use, Redis unreachable),
2 for a bad command line or config file, 70 for an error that escaped every handler (a bug).
`;

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  config: { type: 'string' },
  key: { type: 'string', multiple: true },
  redis: { type: 'string' },
  'redis-connect-timeout': { type: 'string' },
  'advertise-url': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  sandbox: { type: 'boolean' },
  'sandbox-public': { type: 'boolean' },
  demo: { type: 'boolean' },
  'metrics-token': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'drain-delay': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'dev-key-file': { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every flag, as `--name`, for the unknown-option message. */
export const VALID_FLAGS = Object.keys(FLAGS).map((f) => `--${f}`);

export interface ServeCommand {
  command: 'serve';
  options: ServerOptions;
  logLevel: LogLevelName;
  /** undefined: pretty on a terminal, JSON otherwise. */
  logFormat: LogFormat | undefined;
  /** Where the development app's key lives, when neither a config file, keys nor sandbox define apps. */
  devKeyFile: string | undefined;
  /** The config file, to name it in errors found after parsing (e.g. a bad app). */
  configPath: string | undefined;
  drainDelay: number;
  drainTimeout: number;
  /** The chat demo and the dashboard as set up (the options already say so; this keeps what to print). */
  web: WebSetup;
}

export type ParsedCommand = ServeCommand | { command: 'help' } | { command: 'version' };

/** Parses argv (without node and script). Throws CliError. */
export function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedCommand {
  const { values, positionals } = parseFlags(argv);
  if (values.version) return { command: 'version' };
  if (values.help || positionals.length === 0 || positionals[0] === 'help') return { command: 'help' };
  if (positionals[0] !== 'serve' || positionals.length > 1) {
    throw new CliError(
      `unknown command "${positionals.join(' ')}" (commands: serve; see encke --help)`,
      ExitCode.usage,
    );
  }
  const logLevel = oneOf('--log-level', values['log-level'] ?? env.LOG_LEVEL ?? 'info', LOG_LEVELS);
  const format = values['log-format'] ?? env.LOG_FORMAT;
  const logFormat = format === undefined ? undefined : oneOf('--log-format', format, LOG_FORMATS);
  const configPath = values.config;
  const options: ServerOptions = configPath ? loadConfigFile(configPath) : {};
  if (values.port !== undefined) options.port = integer('--port', values.port, 0, 65535);
  if (values.host !== undefined) options.host = values.host;
  if (values.key) options.keys = [...(options.keys ?? []), ...values.key];
  if (values.redis !== undefined) {
    if (!/^rediss?:\/\//.test(values.redis))
      throw new CliError(`--redis must be a redis:// or rediss:// URL, got ${values.redis}`);
    options.redis = values.redis;
  }
  if (values['redis-connect-timeout'] !== undefined)
    options.redisConnectTimeout = integer('--redis-connect-timeout', values['redis-connect-timeout'], 1);
  if (values['advertise-url'] !== undefined) options.advertiseUrl = values['advertise-url'];
  readTls(values['tls-cert'], values['tls-key'], options);
  if (values.sandbox) options.sandbox = true;
  if (values['sandbox-public']) options.sandboxPublic = true;
  const metricsToken = values['metrics-token'] ?? env.METRICS_TOKEN;
  if (metricsToken !== undefined && metricsToken !== '') options.metricsToken = metricsToken;
  const definesApps = Boolean(options.apps?.length || options.keys?.length || options.sandbox);
  const web = setUpWeb(options, !definesApps, values.demo === true);
  return {
    command: 'serve',
    options,
    logLevel,
    logFormat,
    devKeyFile: definesApps ? undefined : (values['dev-key-file'] ?? DEV_KEY_FILE),
    configPath,
    drainDelay: values['drain-delay'] === undefined ? 0 : integer('--drain-delay', values['drain-delay'], 0),
    drainTimeout:
      values['drain-timeout'] === undefined
        ? DEFAULT_DRAIN_TIMEOUT
        : integer('--drain-timeout', values['drain-timeout'], 0),
    web,
  };
}

function parseFlags(
  argv: string[],
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof FLAGS }>> {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: FLAGS });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '?';
      throw new CliError(`unknown option ${flag} (valid options: ${VALID_FLAGS.join(', ')})`, ExitCode.usage);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new CliError(e.message.split('\n')[0]!.replace(/^Option /, 'option '), ExitCode.usage);
    throw err;
  }
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliError(`${flag} must be one of ${allowed.join(', ')}; got "${value}"`, ExitCode.usage);
}

function integer(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}, got ${text}`, ExitCode.usage);
  return n;
}

function readTls(cert: string | undefined, key: string | undefined, options: ServerOptions): void {
  if ((cert === undefined) !== (key === undefined))
    throw new CliError('--tls-cert and --tls-key must be given together');
  if (cert === undefined || key === undefined) return;
  options.tlsCert = readPem(cert, '--tls-cert');
  options.tlsKey = readPem(key, '--tls-key');
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${flag} file ${path}: ${(err as Error).message}`);
  }
}
