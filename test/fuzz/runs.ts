import fc from 'fast-check';

/**
 * How long every fuzz property runs: the one place that reads the environment for it (test
 * configuration, like CHUTE_TEST_PG_URL). `npm test` runs a bounded pass of a few seconds in all;
 * `npm run fuzz` sets FUZZ_RUNS / FUZZ_TIME_MS for a longer one. FUZZ_SEED replays a run.
 *
 *   FUZZ_RUNS     runs per property (default 100; properties over HTTP take a quarter, at least 20)
 *   FUZZ_TIME_MS  stop a property after this long even if its runs are not done (default 4000)
 *   FUZZ_SEED     the seed fast-check printed for a failure; with FUZZ_PATH, the exact case
 */
const RUNS = positive(process.env.FUZZ_RUNS) ?? 100;
const TIME_MS = positive(process.env.FUZZ_TIME_MS) ?? 4000;
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const PATH = process.env.FUZZ_PATH;

function positive(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`expected a positive integer, got ${v}`);
  return n;
}

export interface Bounds {
  /** A property whose run costs a round trip over HTTP: a tenth of the runs. */
  io?: boolean;
  /** Multiplies the runs (a cheap property can afford more). */
  scale?: number;
}

/** fast-check parameters for one property. */
export function params<T>(bounds: Bounds = {}): fc.Parameters<T> {
  const base = bounds.io ? Math.max(20, Math.round(RUNS / 4)) : RUNS;
  const p: fc.Parameters<T> = {
    numRuns: Math.max(1, Math.round(base * (bounds.scale ?? 1))),
    interruptAfterTimeLimit: TIME_MS,
    // A property cut short by the time limit still counts as passed for the runs it made, but it
    // must have made some: a limit too small to run anything is a broken configuration.
    markInterruptAsFailure: false,
    // On failure fast-check's message carries the seed, the path and the shrunk counterexample.
    verbose: 1,
  };
  if (SEED !== undefined) p.seed = SEED;
  if (PATH !== undefined) p.path = PATH;
  return p;
}

/** What a property did, for the test's diagnostic line. */
export interface Ran {
  runs: number;
  seed: number;
}

function settle(details: fc.RunDetails<unknown>): Ran {
  // defaultReportMessage names the seed and path to replay (FUZZ_SEED/FUZZ_PATH) and the shrunk
  // counterexample.
  if (details.failed) {
    throw new Error(fc.defaultReportMessage(details) ?? 'property failed', { cause: details.errorInstance });
  }
  if (details.numRuns === 0) throw new Error('the time limit allowed no run at all (FUZZ_TIME_MS)');
  return { runs: details.numRuns, seed: details.seed };
}

/** Runs a synchronous property with the shared bounds. */
export function check<Ts extends [unknown, ...unknown[]]>(
  property: fc.IPropertyWithHooks<Ts>,
  bounds?: Bounds,
): Ran {
  return settle(fc.check(property, params(bounds)) as fc.RunDetails<unknown>);
}

/** The async version, for properties that talk to a server. */
export async function checkAsync<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncPropertyWithHooks<Ts>,
  bounds?: Bounds,
): Promise<Ran> {
  return settle((await fc.check(property, params(bounds))) as fc.RunDetails<unknown>);
}
