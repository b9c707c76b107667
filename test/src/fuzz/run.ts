/**
 * `npm run fuzz -- --minutes N [--seed S]`: the server fuzz targets of targets.ts, round-robin in
 * batches with fresh seeds, for N minutes (default 1), against one `encke serve` child process.
 * Stops at the first failure (the seed and the shrunk input are printed, so it can be replayed);
 * otherwise prints the inputs tried, crashes (0) and the server's peak RSS. Exit code 1 on a finding.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { FuzzServer } from './harness.js';
import { TARGETS, Watcher, runOne } from './targets.js';

const BATCH = 50;
const MB = 1024 * 1024;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1' }, seed: { type: 'string' } } });
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0)
    throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
  const baseSeed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const deadline = Date.now() + minutes * 60_000;
  const server = await FuzzServer.start();
  const watcher = await Watcher.start(server);
  const tried = new Map<string, number>(TARGETS.map((t) => [t.name, 0]));
  let total = 0;
  let batch = 0;
  let finding: string | undefined;
  const started = Date.now();
  process.stdout.write(`fuzz: ${TARGETS.length} targets for ${minutes} minute(s), base seed ${baseSeed}\n`);
  try {
    while (Date.now() < deadline && finding === undefined) {
      const target = TARGETS[batch % TARGETS.length]!;
      const seed = baseSeed + batch++;
      let index = 0;
      const result = await fc.check(
        fc.asyncProperty(target.input, (input) => runOne(target, server, watcher, input, ++index)),
        { seed, numRuns: BATCH, endOnFailure: true },
      );
      total += result.numRuns;
      tried.set(target.name, tried.get(target.name)! + result.numRuns);
      if (result.failed) {
        const input = result.counterexample?.[0];
        finding = `${target.name} failed (seed ${seed}, path ${result.counterexamplePath ?? ''}): ${String(result.errorInstance)}\ninput (${input?.length ?? 0} bytes, base64): ${input ? input.toString('base64').slice(0, 2000) : ''}`;
      }
      if (batch % TARGETS.length === 0) {
        const { rss, peak } = server.memory();
        process.stdout.write(
          `  ${((Date.now() - started) / 60_000).toFixed(1)} min: ${total} inputs, server RSS ${(rss / MB).toFixed(0)} MB (peak ${(peak / MB).toFixed(0)} MB)\n`,
        );
      }
    }
    if (finding === undefined) await watcher.checkHealthy();
  } catch (err) {
    finding ??= `health check failed: ${(err as Error).message}`;
  }
  const crashes = server.alive ? 0 : 1;
  const memory = server.alive ? server.memory() : { rss: 0, peak: 0 };
  watcher.close();
  await server.stop();
  process.stdout.write(
    `\nfuzz report: ${((Date.now() - started) / 60_000).toFixed(1)} minutes, base seed ${baseSeed}\n`,
  );
  for (const [name, n] of tried) process.stdout.write(`  ${name}: ${n} inputs\n`);
  process.stdout.write(
    `inputs tried: ${total}\ncrashes: ${crashes}\nerror-level log lines: ${server.errors.length}\nfindings: ${finding === undefined ? 0 : 1}\n`,
  );
  process.stdout.write(
    `server max RSS (VmHWM): ${(memory.peak / MB).toFixed(1)} MB; final RSS ${(memory.rss / MB).toFixed(1)} MB\n`,
  );
  if (finding !== undefined) process.stdout.write(`\nFINDING: ${finding}\n`);
  return finding === undefined && crashes === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
