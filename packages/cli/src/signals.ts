/**
 * What stops a running server: SIGTERM or SIGINT, and,
 * when npm started us (`npm start`, `npx encke`), npm going away. npm forwards SIGTERM/SIGINT only
 * to the shell it runs the command in, and that shell does not pass it on, so the server would be
 * left running, orphaned. The parent is polled instead: when it changes, the signal was for us.
 */

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** How often (ms) the parent process is checked when npm started us. */
export const PARENT_POLL_INTERVAL = 250;

export type StopListener = (reason: string) => void;

/** Calls `listener` on each stop signal (and once if the npm parent goes). Returns an unsubscribe. */
export function onStop(listener: StopListener, env: NodeJS.ProcessEnv = process.env): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => listener(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  let poll: NodeJS.Timeout | undefined;
  if (startedByNpm(env)) {
    const parent = process.ppid;
    poll = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(poll);
      listener('parent exited');
    }, PARENT_POLL_INTERVAL);
    poll.unref();
  }
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    clearInterval(poll);
  };
}

/** npm sets npm_lifecycle_event for every script it runs, `npx`/`npm exec` included. */
function startedByNpm(env: NodeJS.ProcessEnv): boolean {
  return env.npm_lifecycle_event !== undefined;
}
