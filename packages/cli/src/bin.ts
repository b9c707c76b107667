import { main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`encke: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
