import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { BlobWriter } from '../backend/types.ts';

/**
 * The MD5 of a body (its ETag), computed where it costs the request least.
 *
 * MD5 is the dearest thing a PUT does: one core hashes ~600 MB/s, and receiving the body through
 * node:http costs the same thread ~1 ms per MiB besides, so hashing inline caps a PUT at
 * 1 / (1/md5 + 1/receive) ≈ 0.6–0.7× the MD5 rate however the rest is tuned. A large body is
 * therefore hashed on a helper thread that reads the blob back behind the writes (from the page
 * cache: the bytes hashed are the bytes stored) while this thread keeps receiving; a small one,
 * or a writer that is not a file, is hashed inline.
 */
export interface Md5 {
  /** Feeds bytes (a no-op when the stored bytes are hashed behind the writer). */
  update(b: Buffer): void;
  /** The digest of the first `size` bytes, once all of them are written (`writer.settle()`). */
  digest(size: number): Promise<Buffer>;
  /** Releases the helper's hold on the blob when the body is abandoned. */
  cancel(): void;
}

/** Bodies at least this large are hashed behind the writer. */
export const MD5_BEHIND_MIN_BYTES = 8 * 1024 * 1024;

export function startMd5(writer: BlobWriter, expectedBytes: number): Md5 {
  if (expectedBytes >= MD5_BEHIND_MIN_BYTES && writer.path !== undefined && writer.onWritten) {
    return new Md5Behind(writer.path, writer);
  }
  const h: Hash = createHash('md5');
  return { update: (b) => h.update(b), digest: async () => h.digest(), cancel() {} };
}

/*
 * The helper thread is plain JavaScript (no type stripping, no imports from this package), one
 * per process, started on first use and unref'd. Per job it opens the blob read-only by path (an
 * fd of its own: an abort that closes and unlinks the writer's never pulls a file from under
 * it), preads into one reused 1 MiB buffer — nothing allocated per chunk — up to the offset it
 * was told is written, and answers `digest` once it has hashed up to the end it names.
 */
const HELPER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafeSlow(1 << 20);
const jobs = new Map();
function advance(j, end) {
  if (j.error) return;
  try {
    while (j.pos < end) {
      const n = readSync(j.fd, buf, 0, Math.min(buf.length, end - j.pos), j.pos);
      if (n === 0) throw new Error('blob shorter than written');
      j.hash.update(n === buf.length ? buf : buf.subarray(0, n));
      j.pos += n;
    }
  } catch (e) {
    j.error = String(e && e.message || e);
  }
}
function drop(id) {
  const j = jobs.get(id);
  if (!j) return;
  jobs.delete(id);
  if (j.fd !== undefined) try { closeSync(j.fd); } catch {}
}
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    const j = { pos: 0, hash: createHash('md5') };
    try { j.fd = openSync(m.path, 'r'); } catch (e) { j.error = String(e && e.message || e); }
    jobs.set(m.id, j);
    return;
  }
  const j = jobs.get(m.id);
  if (m.op === 'cancel' || !j) return drop(m.id);
  advance(j, m.end);
  if (m.op === 'digest') {
    const reply = j.error ? { id: m.id, error: j.error } : { id: m.id, md5: j.hash.digest() };
    drop(m.id);
    parentPort.postMessage(reply);
  }
});
`;

type Reply = { id: number; md5?: Uint8Array; error?: string };

let helper: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();

function getHelper(): Worker {
  if (helper) return helper;
  const w = new Worker(HELPER_SOURCE, {
    eval: true,
    // Its heap holds a few objects per job; the bytes it hashes live in one reused buffer.
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    stdout: false,
    stderr: false,
  });
  w.on('message', (r: Reply) => {
    const p = waiting.get(r.id);
    if (!p) return;
    waiting.delete(r.id);
    if (r.md5) p.resolve(Buffer.from(r.md5.buffer, r.md5.byteOffset, r.md5.byteLength));
    else p.reject(new Error(`md5 helper: ${r.error}`));
  });
  const fail = (e: unknown) => {
    if (helper === w) helper = undefined;
    for (const p of waiting.values()) p.reject(e instanceof Error ? e : new Error(String(e)));
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`md5 helper exited with code ${code}`)));
  // After the listeners: adding a 'message' listener refs the worker again.
  w.unref();
  helper = w;
  return w;
}

class Md5Behind implements Md5 {
  readonly #id = ++nextId;
  readonly #helper = getHelper();
  #done = false;

  constructor(path: string, writer: BlobWriter) {
    this.#helper.postMessage({ op: 'open', id: this.#id, path });
    writer.onWritten!((end) => {
      if (!this.#done) this.#helper.postMessage({ op: 'advance', id: this.#id, end });
    });
  }

  update(): void {}

  digest(size: number): Promise<Buffer> {
    this.#done = true;
    // A helper that died (and was replaced) took this job's state with it.
    if (helper !== this.#helper) return Promise.reject(new Error('md5 helper exited'));
    return new Promise((resolve, reject) => {
      waiting.set(this.#id, { resolve, reject });
      this.#helper.postMessage({ op: 'digest', id: this.#id, end: size });
    });
  }

  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#helper.postMessage({ op: 'cancel', id: this.#id });
  }
}
