import { ChuteClientError } from './errors.ts';

/** Default: a storage request that sends nothing and hears nothing this long is given up on. */
export const DEFAULT_STALL_MS = 30_000;

/**
 * Runs one storage request under a stall guard: a child of `signal` that aborts when neither a
 * progress tick nor an answer came for `stallMs` (a dead connection a load balancer never
 * closes, a laptop that changed networks). The request then fails as a retryable
 * `network_error`; the caller's own abort stays an abort. The timer and the listener go in
 * `finally`.
 */
export async function withStallGuard<T>(
  signal: AbortSignal,
  stallMs: number,
  send: (guarded: AbortSignal, tick: () => void) => Promise<T>,
): Promise<T> {
  const child = new AbortController();
  const follow = () => child.abort(signal.reason);
  signal.addEventListener('abort', follow, { once: true });
  let stalled = false;
  let over = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    // Write callbacks of a destroyed request still fire (with an error) after we are done: a
    // timer armed then would outlive the call and hold the process open for stallMs.
    if (over) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      child.abort(new Error('stalled'));
    }, stallMs);
  };
  arm();
  try {
    return await send(child.signal, arm);
  } catch (e) {
    if (stalled && !signal.aborted)
      throw new ChuteClientError(
        'network_error',
        `No progress for ${Math.round(stallMs / 1000)} s: the request to storage stalled.`,
        { source: 'client', details: { stalled: true }, cause: e },
      );
    throw e;
  } finally {
    over = true;
    clearTimeout(timer);
    signal.removeEventListener('abort', follow);
  }
}
