/** What the command line reports: one line on stderr and an exit status. */

export const ExitCode = {
  ok: 0,
  /** The server could not start (port in use, Redis unreachable, no permission). */
  startFailed: 1,
  /** A bad command line or config file. */
  usage: 2,
  /** A bug: an exception escaped every handler of the server (EX_SOFTWARE). */
  software: 70,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
  }
}

/** A listen() failure as one line a person can act on. */
export function startError(err: unknown, host: string, port: number): CliError {
  const e = err as Error & { code?: string };
  switch (e.code) {
    case 'EADDRINUSE':
      return new CliError(
        `port ${port} on ${host} is already in use (choose another with --port)`,
        ExitCode.startFailed,
      );
    case 'EACCES':
      return new CliError(
        `no permission to listen on ${host}:${port} (ports below 1024 need privileges; use --port)`,
        ExitCode.startFailed,
      );
    case 'EADDRNOTAVAIL':
      return new CliError(`cannot listen on ${host}: not an address of this machine (--host)`, ExitCode.startFailed);
    case 'ENOTFOUND':
      return new CliError(`cannot listen on ${host}: unknown host name (--host)`, ExitCode.startFailed);
    case 'REDIS_UNREACHABLE':
      return new CliError(`${e.message}; is it running? (--redis, --redis-connect-timeout)`, ExitCode.startFailed);
    default:
      return new CliError(`cannot start: ${e.message ?? String(err)}`, ExitCode.startFailed);
  }
}
