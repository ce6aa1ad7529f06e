import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DISCARD_MS, type RequestBody } from './request-body.ts';

/** The slow-client rule for bodies (@chute/httpd's SlowClientLimits, the two fields used). */
export interface BodyRate {
  minBytesPerSec: number;
  rateWindowMs: number;
}

type Sink = (b: Buffer) => Promise<void> | undefined;

/**
 * A large body read by takeover.ts straight from the socket into a reused buffer, node:http
 * never seeing its bytes. The connection offers each read's bytes (`offer`); they go to the
 * handler's sink at once, or wait here — and the connection reads nothing more — until the
 * handler starts consuming or its sink's promise settles. So the one buffer a connection reads
 * into is never overwritten while any of it is still wanted, and a slow disk stops the socket.
 *
 * Also the watch node:http's request would have had: `Expect: 100-continue` answered when the
 * handler starts reading, and the minimum body rate (@chute/httpd's rule: judged only over
 * windows in which the store wanted bytes all along).
 */
export class SocketBody implements RequestBody {
  /** Bytes still to be offered by the connection. */
  left: number;
  readonly #socket: Socket;
  readonly #res: ServerResponse;
  readonly #expectContinue: boolean;
  readonly #rate: BodyRate;
  /** Called when the body stops holding the connection's buffer (it may read again). */
  readonly #released: () => void;
  #sink: Sink | undefined;
  #stash: Buffer | undefined;
  #busy = false;
  #delivered = 0;
  readonly #length: number;
  #settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  #error: unknown;
  #discarding: NodeJS.Timeout | undefined;
  #rateTimer: NodeJS.Timeout | undefined;
  #windowBytes = 0;
  #disturbed = true;

  constructor(init: {
    length: number;
    socket: Socket;
    res: ServerResponse;
    expectContinue: boolean;
    rate: BodyRate;
    released: () => void;
  }) {
    this.left = init.length;
    this.#length = init.length;
    this.#socket = init.socket;
    this.#res = init.res;
    this.#expectContinue = init.expectContinue;
    this.#rate = init.rate;
    this.#released = init.released;
  }

  get complete(): boolean {
    return this.#delivered === this.#length;
  }

  /** Whether the connection must not read: bytes wait here, or the sink still uses them. */
  get held(): boolean {
    return this.#stash !== undefined || this.#busy;
  }

  consume(onChunk: Sink): Promise<void> {
    if (this.#sink) return Promise.reject(new Error('body already consumed'));
    if (this.#error) return Promise.reject(this.#error);
    this.#sink = onChunk;
    // "100 Continue" only once something reads, so a refused upload is never sent at all.
    if (this.#expectContinue && !this.#res.headersSent) this.#res.writeContinue();
    this.#watchRate();
    return new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
      this.#pump();
      this.#finishIfDone();
    });
  }

  discard(): void {
    if (this.complete || this.#discarding) return;
    this.#stop();
    this.#discarding = setTimeout(() => this.#socket.destroy(), DISCARD_MS);
    this.#discarding.unref();
    // A sink that failed (the handler answered the error) gives way to dropping; a body whose
    // connection is gone has nothing more coming.
    this.#error = undefined;
    this.#sink = () => undefined;
    if (this.#stash) this.#pump();
    else if (!this.#busy) this.#released();
  }

  /** The connection's next bytes of this body (at most `left`), in memory it reuses. */
  offer(part: Buffer): void {
    this.left -= part.length;
    this.#windowBytes += part.length;
    this.#stash = part;
    this.#pump();
  }

  /** The connection closed or failed before every byte arrived. */
  abort(e: Error): void {
    if (this.complete) return;
    this.#stop();
    clearTimeout(this.#discarding);
    this.#error ??= e;
    this.#stash = undefined;
    const s = this.#settle;
    this.#settle = undefined;
    s?.reject(this.#error);
  }

  /** Hands the waiting bytes to the sink, if there is one and it is free. */
  #pump(): void {
    const part = this.#stash;
    if (!part || this.#busy || !this.#sink || this.#error) return;
    this.#stash = undefined;
    let p: Promise<void> | undefined;
    try {
      p = this.#sink(part);
    } catch (e) {
      // Read, if not taken: the body still ends where it was announced to.
      this.#delivered += part.length;
      this.#fail(e);
      return;
    }
    if (p) {
      this.#busy = true;
      this.#disturbed = true;
      p.then(
        () => {
          this.#busy = false;
          this.#delivered += part.length;
          this.#afterDelivery();
        },
        (e) => {
          this.#busy = false;
          this.#delivered += part.length;
          this.#fail(e);
          if (!this.held) this.#released();
        },
      );
      return;
    }
    this.#delivered += part.length;
    this.#afterDelivery();
  }

  #afterDelivery(): void {
    this.#finishIfDone();
    if (!this.held) this.#released();
  }

  #finishIfDone(): void {
    if (!this.complete || this.#busy) return;
    this.#stop();
    clearTimeout(this.#discarding);
    const s = this.#settle;
    this.#settle = undefined;
    s?.resolve();
  }

  /** The sink threw or rejected: the handler answers; the rest of the body waits for discard(). */
  #fail(e: unknown): void {
    this.#error = e;
    this.#sink = undefined;
    this.#stop();
    const s = this.#settle;
    this.#settle = undefined;
    s?.reject(e);
    // Bytes offered from now on wait (holding the connection) until the handler discards them.
  }

  #stop(): void {
    clearInterval(this.#rateTimer);
    this.#rateTimer = undefined;
  }

  /**
   * @chute/httpd's minimum body rate, for a body node:http does not see: a window counts only
   * if the store wanted bytes through all of it (consuming, never waiting on its sink).
   */
  #watchRate(): void {
    const { minBytesPerSec, rateWindowMs } = this.#rate;
    if (minBytesPerSec <= 0 || this.complete) return;
    const perWindow = (minBytesPerSec * rateWindowMs) / 1000;
    this.#windowBytes = 0;
    this.#disturbed = false;
    this.#rateTimer = setInterval(() => {
      if (this.complete || this.#socket.destroyed) return this.#stop();
      const judged = !this.#disturbed && !this.held && this.#error === undefined;
      const got = this.#windowBytes;
      // What was left at the start of the window: the bytes still to come plus those that came.
      const left = this.left + got;
      this.#windowBytes = 0;
      this.#disturbed = this.held;
      if (judged && got < Math.min(perWindow, Math.max(1, left))) {
        this.#stop();
        this.#socket.destroy();
      }
    }, rateWindowMs);
    this.#rateTimer.unref();
  }
}
