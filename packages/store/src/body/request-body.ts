import type { IncomingMessage } from 'node:http';
import { consume } from './consume.ts';

/**
 * A request's body, however it is read: through node:http (`NodeBody`, every body but the
 * large ones), or straight from the socket into reused memory (`SocketBody`, socket-body.ts).
 */
export interface RequestBody {
  /** Every byte the request announced has arrived. */
  readonly complete: boolean;
  /**
   * Feeds every chunk to `onChunk`, in order, pausing the source while the promise it returns
   * is pending. A chunk may be memory that is reused for the next one: `onChunk` must be done
   * with it when it returns, or, if it returns a promise, when that promise settles.
   * Rejects when the client goes away before the end, or with what `onChunk` throws.
   */
  consume(onChunk: (b: Buffer) => Promise<void> | undefined): Promise<void>;
  /**
   * The handler is done without reading (all of) it: the rest is read and dropped for a moment,
   * so the client can read the answer, then the connection is cut instead of swallowing an
   * unbounded upload.
   */
  discard(): void;
}

/** How long a refused upload may keep sending before the connection is cut, ms. */
export const DISCARD_MS = 2000;

/** The body as node:http delivers it (a new Buffer per socket read). */
export class NodeBody implements RequestBody {
  readonly #req: IncomingMessage;

  constructor(req: IncomingMessage) {
    this.#req = req;
  }

  get complete(): boolean {
    return this.#req.complete;
  }

  consume(onChunk: (b: Buffer) => Promise<void> | undefined): Promise<void> {
    return consume(this.#req, onChunk);
  }

  discard(): void {
    const req = this.#req;
    if (req.complete || req.destroyed) return;
    req.resume();
    const t = setTimeout(() => req.socket.destroy(), DISCARD_MS);
    t.unref();
    req.once('end', () => clearTimeout(t));
  }
}
