/**
 * Stops the running servers on SIGINT/SIGTERM, then exits 0 (1 if stopping failed). A second
 * signal while stopping exits at once. After `deadlineMs` the process exits anyway: requests in
 * flight have had their time, and a socket a browser opened but never used must not hold a
 * shutdown for the ~100 s node takes to time it out.
 */
export function stopOnSignals(
  stop: () => Promise<void>,
  say: (line: string) => void,
  deadlineMs = 10_000,
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    say(`${signal}: stopping…`);
    setTimeout(() => {
      say(`still stopping after ${deadlineMs / 1000}s (connections left open): exiting`);
      process.exit(0);
    }, deadlineMs).unref();
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        say(`error while stopping: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
