import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import { fsyncDir } from './durable.ts';
import { FileBlob } from './file-blob.ts';
import { RING_SLOTS, type Ring, type RingPool, SLOT_BYTES } from './ring.ts';

/** Bodies announced at least this large are staged (below it the buffered writer is cheaper). */
export const STAGE_MIN_BYTES = 8 * 1024 * 1024;

/**
 * The tail of a direct-I/O file is written rounded up to this (then truncated back): "the length
 * and address of user-space buffers and the file offset of I/Os must all be multiples of the
 * logical block size of the filesystem" (open(2), O_DIRECT); 4096 covers every common device.
 */
const DIRECT_ALIGN = 4096;

/** Whether this data directory takes direct I/O; the first refusal turns it off for good. */
export interface DirectIo {
  enabled: boolean;
}

type Span = (span: Buffer) => Promise<void>;

/**
 * A large blob, staged through a ring of shared, page-aligned slots (ring.ts): each chunk is
 * copied into the current slot; a full slot is offered to the span observer (the MD5 helper
 * thread hashes it in place) and written to disk with O_DIRECT, so the kernel neither copies it
 * into the page cache nor keeps 1 GiB of dirty pages to flush at the end. A slot is refilled
 * only once both its write and its observer are done; when the next slot is still busy, write()
 * returns a promise and the caller stops reading the socket: that is the whole backpressure.
 *
 * Per GiB on a 2-core VM (bench/ingest.ts): the buffered path cost ~0.35 s of kernel copying in
 * the threadpool plus page allocation that is far dearer on first touch, and the MD5 helper's
 * read-back ~0.1 s; this path costs one memcpy (~0.05 s) and a direct write the device does by
 * DMA. Where the filesystem or the memory refuses direct I/O (EINVAL), the same ring is written
 * through the page cache instead, and the data directory stops trying.
 */
export class StagedBlobWriter extends FileBlob {
  readonly #pool: RingPool;
  readonly #ring: Ring;
  readonly #io: DirectIo;
  /** The handle the file was created with (with O_DIRECT when #direct started true). */
  readonly #fh: FileHandle;
  #direct: boolean;
  /** A second, buffered handle, opened when direct I/O is refused mid-blob. */
  #buffered: Promise<FileHandle> | undefined;
  #observer: Span | undefined;
  /** Pending operations (write, observer) per slot, and who waits for the slot to be free. */
  readonly #busy = new Array<number>(RING_SLOTS).fill(0);
  readonly #waiters: (() => void)[][] = Array.from({ length: RING_SLOTS }, () => []);
  #slot = 0;
  #fill = 0;
  #position = 0;
  /** The last write ran past the end (direct I/O rounds the tail up): truncate at finish. */
  #padded = false;
  #sealed = false;
  #waiting = false;
  #error: unknown;

  private constructor(
    id: string,
    dir: string,
    path: string,
    fh: FileHandle,
    direct: boolean,
    pool: RingPool,
    io: DirectIo,
  ) {
    super(id, dir, path);
    this.#fh = fh;
    this.#direct = direct;
    this.#pool = pool;
    this.#io = io;
    this.#ring = pool.take();
  }

  /** Creates the file (it must not exist), with O_DIRECT while the data directory takes it. */
  static async create(
    id: string,
    dir: string,
    path: string,
    pool: RingPool,
    io: DirectIo,
  ): Promise<StagedBlobWriter> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    if (io.enabled && constants.O_DIRECT !== undefined) {
      try {
        const fh = await fsp.open(path, flags | constants.O_DIRECT, 0o644);
        return new StagedBlobWriter(id, dir, path, fh, true, pool, io);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        io.enabled = false;
        // Linux checks O_DIRECT after O_CREAT has made the (empty) file: open it without O_EXCL.
        const fh = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
        return new StagedBlobWriter(id, dir, path, fh, false, pool, io);
      }
    }
    const fh = await fsp.open(path, flags, 0o644);
    return new StagedBlobWriter(id, dir, path, fh, false, pool, io);
  }

  /** Whether writes still go by direct I/O (for tests). */
  get direct(): boolean {
    return this.#direct;
  }

  onSpan(fn: Span): void {
    this.#observer = fn;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    if (this.state !== 'open' || this.#sealed) throw new Error('blob already flushed');
    // The rest of a waiting chunk has not been copied yet: a write now would overtake it.
    if (this.#waiting) throw new Error('write() before the previous write settled');
    const p = this.#copy(chunk, 0);
    if (!p) return undefined;
    this.#waiting = true;
    return p.finally(() => {
      this.#waiting = false;
    });
  }

  #copy(chunk: Buffer, from: number): Promise<void> | undefined {
    let i = from;
    while (i < chunk.length) {
      const slot = this.#slot;
      if (this.#fill === 0 && this.#busy[slot]! > 0) {
        // The ring is full: take the rest of the chunk once this slot is written and hashed.
        return this.#free(slot).then(() => {
          if (this.#error) throw this.#error;
          // Aborted meanwhile: the ring is on its way back to the pool, write nothing more.
          if (this.state !== 'open') throw new Error('blob aborted');
          return this.#copy(chunk, i);
        });
      }
      const n = Math.min(chunk.length - i, SLOT_BYTES - this.#fill);
      const at = slot * SLOT_BYTES + this.#fill;
      // fill() with a Buffer of exactly the range's length is a copy, done by Node with memcpy.
      // copy()/set() into shared memory go through V8's relaxed atomic memmove instead, which
      // perf showed at a quarter of this thread's time on a 1 GiB PUT (fill(): 0.98 → 0.82 s).
      this.#ring.bytes.fill(chunk.subarray(i, i + n), at, at + n);
      this.#fill += n;
      i += n;
      if (this.#fill === SLOT_BYTES) this.#emit();
    }
    return undefined;
  }

  /** Hands the current slot to the observer and the disk, and moves to the next. */
  #emit(): void {
    const slot = this.#slot;
    const len = this.#fill;
    const start = slot * SLOT_BYTES;
    const span = this.#ring.bytes.subarray(start, start + len);
    const pos = this.#position;
    this.#position += len;
    this.#slot = (slot + 1) % RING_SLOTS;
    this.#fill = 0;
    if (this.#observer) this.#hold(slot, this.#observer(span));
    let out = span;
    if (this.#direct && len % DIRECT_ALIGN !== 0) {
      // Only the tail is short; the bytes past it are stale and truncated away at finish.
      out = this.#ring.bytes.subarray(start, start + Math.ceil(len / DIRECT_ALIGN) * DIRECT_ALIGN);
      this.#padded = true;
    }
    this.#hold(slot, this.#writeSpan(out, pos));
  }

  #hold(slot: number, p: Promise<void>): void {
    this.#busy[slot]!++;
    const done = () => {
      if (--this.#busy[slot]! > 0) return;
      for (const w of this.#waiters[slot]!.splice(0)) w();
    };
    p.then(done, (e) => {
      this.#error ??= e;
      done();
    });
  }

  async #writeSpan(span: Buffer, pos: number): Promise<void> {
    if (this.#direct) {
      try {
        await writeFully(this.#fh, span, pos);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        // Refused (alignment, or a filesystem that only pretends): the page cache it is.
        this.#io.enabled = false;
        this.#direct = false;
        this.#buffered ??= fsp.open(this.path, constants.O_WRONLY);
      }
    }
    await writeFully(await this.#plain(), span, pos);
  }

  /** The handle for buffered I/O: the one created, unless it was opened with O_DIRECT. */
  #plain(): Promise<FileHandle> {
    return this.#buffered ?? Promise.resolve(this.#fh);
  }

  /** Resolves once neither a write nor the observer holds `slot`. */
  #free(slot: number): Promise<void> {
    if (this.#busy[slot] === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters[slot]!.push(resolve));
  }

  /** Resolves once no write or observer holds any slot. */
  async #idle(): Promise<void> {
    for (let slot = 0; slot < RING_SLOTS; slot++) await this.#free(slot);
  }

  async #close(): Promise<void> {
    await this.#fh.close().catch(() => {});
    const b = await this.#buffered?.catch(() => undefined);
    await b?.close().catch(() => {});
  }

  flush(): void {
    // Terminal: a write after a short tail would start off the block alignment.
    this.#sealed = true;
    if (this.state === 'open' && this.#fill > 0) this.#emit();
  }

  async finish(): Promise<{ size: number }> {
    if (this.state !== 'open') throw new Error('blob already finished');
    this.flush();
    await this.#idle();
    if (this.#error) throw this.#error;
    this.state = 'finished';
    try {
      // Either handle will do: truncate and fdatasync act on the file, not on the descriptor.
      const fh = this.#direct ? this.#fh : await this.#plain();
      if (this.#padded) await fh.truncate(this.#position);
      // O_DIRECT bypasses the page cache, not the device's cache nor the file's metadata.
      await fh.datasync();
    } finally {
      await this.#close();
      this.#pool.give(this.#ring);
    }
    await fsyncDir(this.dir);
    return { size: this.#position };
  }

  protected async letGo(): Promise<void> {
    // Writes and hashes in flight still read the ring: it goes back only when they are done.
    await this.#idle();
    await this.#close();
    this.#pool.give(this.#ring);
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, pos: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
    if (bytesWritten === 0) throw new Error('write made no progress');
    done += bytesWritten;
  }
}
