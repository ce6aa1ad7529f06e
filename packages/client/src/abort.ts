import { abortedError } from './errors.ts';

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal);
}

/** setTimeout as a promise that rejects (aborted) when `signal` fires; its listener goes either way. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortedError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The one AbortController of an upload. It follows the caller's signal through a single listener;
 * `release()` (called in `finally`) removes that listener and aborts the controller, so every
 * request, timer and listener hung on `signal` is let go — also the parallel ones still running
 * when another failed (the zombie-uploader bug of uppy's @uppy/aws-s3 S3Uploader).
 */
export function ownController(outer: AbortSignal | undefined): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const follow = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', follow, { once: true });
  return {
    signal: controller.signal,
    release() {
      outer?.removeEventListener('abort', follow);
      if (!controller.signal.aborted) controller.abort(new Error('upload finished'));
    },
  };
}
