import type { FileHandle } from 'node:fs/promises';
import { fsyncDir } from './durable.ts';
import { FileBlob } from './file-blob.ts';

const WRITE_BATCH = 1 << 20;
const MAX_IN_FLIGHT = 4;
/** fdatasync this often while writing so the final sync does not carry the whole file. */
const SYNC_EVERY = 256 << 20;

/**
 * A blob of unknown or small size (below STAGE_MIN_BYTES): chunks are batched into ~1 MiB
 * pwritev calls through the page cache, at most MAX_IN_FLIGHT at once.
 */
export class BufferedBlobWriter extends FileBlob {
  readonly #fh: FileHandle;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #position = 0;
  #sinceSync = 0;
  readonly #inFlight = new Set<Promise<void>>();
  #error: unknown;

  constructor(id: string, dir: string, path: string, fh: FileHandle) {
    super(id, dir, path);
    this.#fh = fh;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    if (this.#batchBytes >= WRITE_BATCH) return this.#flush();
    return undefined;
  }

  #track(p: Promise<void>): void {
    const t: Promise<void> = p.then(
      () => {
        this.#inFlight.delete(t);
      },
      (e) => {
        this.#inFlight.delete(t);
        this.#error ??= e;
      },
    );
    this.#inFlight.add(t);
  }

  #flush(): Promise<void> | undefined {
    if (this.#batchBytes > 0) {
      const bufs = this.#batch;
      const pos = this.#position;
      const len = this.#batchBytes;
      this.#batch = [];
      this.#batchBytes = 0;
      this.#position += len;
      this.#sinceSync += len;
      this.#track(this.#writeAll(bufs, pos, len));
      if (this.#sinceSync >= SYNC_EVERY) {
        this.#sinceSync = 0;
        this.#track(this.#fh.datasync());
      }
    }
    if (this.#inFlight.size >= MAX_IN_FLIGHT) {
      return Promise.race(this.#inFlight).then(() => {
        if (this.#error) throw this.#error;
      });
    }
    return undefined;
  }

  async #writeAll(bufs: Buffer[], pos: number, len: number): Promise<void> {
    // One pwritev on the threadpool per ~1 MiB batch.
    const { bytesWritten } = await this.#fh.writev(bufs, pos);
    if (bytesWritten < len) {
      // Short write (rare on regular files): finish with plain writes.
      const rest = Buffer.concat(bufs).subarray(bytesWritten);
      let off = 0;
      while (off < rest.length) {
        const r = await this.#fh.write(rest, off, rest.length - off, pos + bytesWritten + off);
        off += r.bytesWritten;
      }
    }
  }

  async finish(): Promise<{ size: number }> {
    if (this.state !== 'open') throw new Error('blob already finished');
    if (this.#error) throw this.#error;
    this.#flush();
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    if (this.#error) throw this.#error;
    await this.#fh.datasync();
    await this.#fh.close();
    await fsyncDir(this.dir);
    this.state = 'finished';
    return { size: this.#position };
  }

  protected async letGo(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    await this.#fh.close().catch(() => {});
  }
}
