/**
 * The bytes of a POST form's `file` part, as busboy reads them, at memory speed.
 *
 * busboy decides everything about the form — fields, part headers, where the file starts — and
 * is fed until it has handed over at least one byte of the file. It is then plainly inside the
 * file's data: nothing of the form is left to decide but where the file ends, which busboy finds
 * as the first "CRLF--boundary" after it (RFC 2046 §5.1.1: "The boundary delimiter MUST occur at
 * the beginning of a line … the initial CRLF is considered to be attached to the boundary
 * delimiter line"). From there the same needle, taken from busboy's own searcher, is looked for
 * with Buffer#indexOf, starting with the bytes busboy held back in case they began a delimiter.
 * busboy's search (streamsearch, in JavaScript) costs more than the MD5 of the same bytes, and
 * some contents made it crawl: a file of one repeated letter of the boundary ran at ~170 MB/s.
 *
 * Nothing here parses: no part header, no start. Two parsers that must agree on where the file
 * starts are the classic smuggling shape; here one parser decides, and post-form-property.test.ts
 * checks on adversarial forms that every chunking (taken over early, late or never) reads alike.
 */
import { Readable } from 'node:stream';
import { S3Error } from '@chute/errors';

/** busboy 1.6's internals this relies on, checked before each use: none → busboy reads it all. */
interface BusboyInternals {
  _complete?: boolean;
  _fileStream?: Readable | null;
  _bparser?: { _needle?: unknown; _lookbehind?: unknown; _lookbehindSize?: unknown };
}

export interface FileBytesHooks {
  /**
   * The raw body's chunks are memory reused once a push() settles (a SocketBody): push() then
   * returns a promise until the reader is done with every slice of the chunk.
   */
  views?: boolean;
  /** Stop the request body (the reader is behind). */
  pause(): void;
  /** Let the request body flow again. */
  resume(): void;
  /** The file's bytes ended: the rest of the body is read and dropped. */
  done(): void;
}

export class FileBytes {
  /** What the caller reads. */
  readonly stream: Readable;
  readonly #src: Readable;
  readonly #bb: BusboyInternals;
  readonly #hooks: FileBytesHooks;
  #scanner: DelimiterScanner | undefined;
  #delivered = 0;
  /** The reader is behind: busboy's stream keeps what it delivers (and so holds busboy back). */
  #full = false;
  /** With `views`: the push() whose slices the reader still holds. */
  #release: (() => void) | undefined;

  constructor(src: Readable, bb: unknown, hooks: FileBytesHooks) {
    this.#src = src;
    this.#bb = bb as BusboyInternals;
    this.#hooks = hooks;
    this.stream = new Readable({
      // With views nothing may wait in the stream unnoticed: push() reports whether it took all.
      ...(hooks.views ? { highWaterMark: 0 } : {}),
      read: () => {
        this.#full = false;
        // The reader asks for more: it is done with everything delivered before.
        if (this.#release && this.stream.readableLength === 0) this.#released();
        if (this.#scanner) hooks.resume();
        else this.#pull();
      },
    });
    // A reader that gives up holds nothing any more.
    this.stream.once('close', () => this.#released());
    // An error before the caller reads is kept for its read (the stream is errored), not thrown.
    this.stream.on('error', () => {});
    // Pulled, not flowing: what busboy delivered during a write is counted right after it.
    src.on('readable', () => this.#pull());
    src.on('end', () => {
      if (!this.#scanner) this.stream.push(null);
    });
    src.on('error', () => {
      if (!this.#scanner) this.stream.destroy(new S3Error('MalformedPOSTRequest'));
    });
  }

  /** Whether the raw body now goes to push() instead of busboy. */
  get scanning(): boolean {
    return this.#scanner !== undefined;
  }

  #pull(): void {
    while (!this.#scanner && !this.#full) {
      const chunk = this.#src.read() as Buffer | null;
      if (chunk === null) return;
      this.#delivered += chunk.length;
      if (!this.stream.push(chunk)) this.#full = true;
    }
  }

  /** Called after each write to busboy: takes over once busboy is plainly inside the file. */
  afterWrite(): void {
    if (this.#scanner) return;
    this.#pull();
    const bb = this.#bb;
    const src = this.#src;
    // Still open, at least one byte delivered, nothing buffered between busboy and the reader.
    if (bb._complete || bb._fileStream !== src || src.destroyed) return;
    if (this.#delivered === 0 || src.readableLength > 0) return;
    const search = bb._bparser;
    if (
      !search ||
      !Buffer.isBuffer(search._needle) ||
      !Buffer.isBuffer(search._lookbehind) ||
      typeof search._lookbehindSize !== 'number'
    ) {
      return;
    }
    this.#scanner = new DelimiterScanner(search._needle);
    const held = Buffer.from(search._lookbehind.subarray(0, search._lookbehindSize));
    if (held.length > 0) this.push(held);
  }

  /**
   * The raw body's next bytes, once scanning. With `views`, a promise while the reader still
   * holds any of them (the chunk's memory must not be reused before it settles).
   */
  push(chunk: Buffer): Promise<void> | undefined {
    const { data, done } = this.#scanner!.push(chunk);
    const views = this.#hooks.views === true;
    let behind = false;
    // The file's last bytes are copied: once its end is found nothing tells when the reader (its
    // writer) is done with them, and the connection reads on.
    for (const d of data) if (!this.stream.push(views && done ? Buffer.from(d) : d)) behind = true;
    if (done) {
      this.stream.push(null);
      this.#hooks.done();
    }
    if (!views) {
      if (behind) this.#hooks.pause();
      return undefined;
    }
    // Taken at once by a reader that is not waiting on its writer: nothing of the chunk is held.
    if (done || this.stream.destroyed) return undefined;
    if (this.stream.readableLength === 0 && this.stream.readableFlowing === true) return undefined;
    return new Promise<void>((resolve) => {
      this.#release = resolve;
    });
  }

  #released(): void {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }

  /** The body ended while scanning: inside the file, so the form is malformed. */
  end(): void {
    this.stream.destroy(new S3Error('MalformedPOSTRequest'));
  }
}

/**
 * Splits a stream of bytes at the first occurrence of `needle`: `push` returns the data before it
 * (possibly several slices, never copying the large ones) and whether it was found. Up to
 * needle-length − 1 bytes are held back between calls in case a needle straddles two chunks.
 */
export class DelimiterScanner {
  readonly #needle: Buffer;
  #tail: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(needle: Buffer) {
    this.#needle = Buffer.from(needle);
  }

  push(chunk: Buffer): { data: Buffer[]; done: boolean } {
    if (this.#done) return { data: [], done: true };
    const n = this.#needle;
    const data: Buffer[] = [];
    if (this.#tail.length > 0) {
      if (chunk.length < n.length) {
        chunk = Buffer.concat([this.#tail, chunk]);
      } else {
        // Any match in tail + (n − 1) bytes of the chunk starts inside the tail.
        const junction = Buffer.concat([this.#tail, chunk.subarray(0, n.length - 1)]);
        const at = junction.indexOf(n);
        if (at >= 0) {
          if (at > 0) data.push(this.#tail.subarray(0, at));
          this.#tail = Buffer.alloc(0);
          this.#done = true;
          return { data, done: true };
        }
        data.push(this.#tail);
      }
      this.#tail = Buffer.alloc(0);
    }
    const at = chunk.indexOf(n);
    if (at >= 0) {
      if (at > 0) data.push(chunk.subarray(0, at));
      this.#done = true;
      return { data, done: true };
    }
    const keep = Math.min(n.length - 1, chunk.length);
    if (chunk.length > keep) data.push(chunk.subarray(0, chunk.length - keep));
    this.#tail = Buffer.from(chunk.subarray(chunk.length - keep));
    return { data, done: false };
  }
}
