import { main } from './cli.js';

// Exit as soon as the command is done: a stopped server may still hold timers or sockets that
// would keep the process (and a service manager waiting on it) alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`encke: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
