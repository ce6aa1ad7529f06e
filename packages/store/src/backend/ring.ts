/**
 * Shared, page-aligned staging memory for large bodies (see staged-writer.ts).
 *
 * Shared, so the MD5 helper thread hashes the very bytes being written without a copy or a
 * read-back; page-aligned, so those bytes can go to disk by direct I/O ("O_DIRECT … the user-space
 * buffers must be aligned to the logical block size", open(2)), skipping the page cache's copy.
 * A shared WebAssembly.Memory is the one shared memory JavaScript can get that starts on a page
 * boundary (V8 maps it as whole pages); a plain SharedArrayBuffer (kept as the fallback, e.g.
 * under --jitless) has no alignment promise, and the writer falls back to buffered writes when
 * the kernel refuses it.
 *
 * Rings are few and reused: a fresh ring's pages cost first-touch faults (dear on a VM whose
 * memory is backed lazily), and reuse keeps the process's memory flat from upload to upload.
 */

/** Bytes per slot: one write and one hash job each. A multiple of any logical block size. */
export const SLOT_BYTES = 1 << 20;
/**
 * Slots per ring: how far receiving may run ahead of the disk and the hash. The hash is what
 * receiving waits for; 4 slots measured as fast as 8 or 32 (1 GiB PUT) for half the memory.
 */
export const RING_SLOTS = 4;
/** Idle rings kept for the next large body. */
const POOL_SIZE = 2;

export interface Ring {
  /** The shared memory; the MD5 helper reads spans of it. */
  readonly memory: SharedArrayBuffer;
  /** A Buffer over all of it. */
  readonly bytes: Buffer;
}

/** The one piece of the WebAssembly API used (the project's lib settings do not declare it). */
type WasmMemory = new (d: {
  initial: number;
  maximum: number;
  shared: true;
}) => { buffer: SharedArrayBuffer };

function allocate(bytes: number): SharedArrayBuffer {
  try {
    const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemory } }).WebAssembly.Memory;
    const pages = bytes / 65536; // a wasm page is 64 KiB
    return new Memory({ initial: pages, maximum: pages, shared: true }).buffer;
  } catch {
    return new SharedArrayBuffer(bytes);
  }
}

export class RingPool {
  readonly #idle: Ring[] = [];

  take(): Ring {
    const r = this.#idle.pop();
    if (r) return r;
    const memory = allocate(SLOT_BYTES * RING_SLOTS);
    return { memory, bytes: Buffer.from(memory) };
  }

  /** Returns a ring nobody reads or writes any more (no write or hash in flight). */
  give(r: Ring): void {
    if (this.#idle.length < POOL_SIZE) this.#idle.push(r);
  }
}
