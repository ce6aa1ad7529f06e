import { ChuteError } from '@chute/errors';
import type { Metrics } from '../telemetry/metrics.ts';

/** A client told to come back sooner than a proxied upload of typical size takes would only spin. */
const RETRY_AFTER_SEC = 5;

/**
 * The per-instance cap on proxied bytes in flight (declared sizes, reserved before the body is
 * read). Memory per upload is flat anyway; the cap bounds the network and CPU one instance gives to
 * proxying, so direct uploads and the API keep answering. One upload larger than the whole cap is
 * let through when nothing else is in flight (otherwise it could never go).
 */
export class ProxyBudget {
  readonly #max: number;
  readonly #metrics: Metrics;
  #used = 0;

  constructor(max: number, metrics: Metrics) {
    this.#max = max;
    this.#metrics = metrics;
  }

  /** Reserves `bytes` or throws unavailable (503 + Retry-After); returns the release, safe to call twice. */
  take(bytes: number): () => void {
    if (this.#used > 0 && this.#used + bytes > this.#max) {
      throw new ChuteError('unavailable', {
        message: 'This gateway is carrying as many proxied bytes as it allows; retry later.',
        retryAfter: RETRY_AFTER_SEC,
      });
    }
    this.#used += bytes;
    this.#metrics.proxyInFlight.set(this.#used);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= bytes;
      this.#metrics.proxyInFlight.set(this.#used);
    };
  }
}
