import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BlobWriter } from '../backend/types.ts';

/**
 * The MD5 of a body (its ETag), computed where it costs the request least.
 *
 * MD5 is the dearest thing a PUT does: one core hashes ~600–900 MB/s, and receiving the body
 * through node:http costs the same thread ~0.5 s per GiB besides, so hashing inline caps a PUT
 * at 1 / (1/md5 + 1/receive), well under the MD5 rate however the rest is tuned. A large body is
 * therefore hashed on a helper thread (one of a small pool: one per body in flight, up to the
 * cores there are), straight from the shared memory its writer stages it in
 * (`BlobWriter.onSpan`: the bytes hashed are the bytes written, with no copy and no read-back),
 * while this thread keeps receiving. A body whose writer stages nothing (small, or not a file)
 * is hashed inline.
 */
export interface Md5 {
  /** Feeds bytes (a no-op when the writer's spans are hashed). */
  update(b: Buffer): void;
  /** The digest, once every byte is hashed; call the writer's flush() first. */
  digest(): Promise<Buffer>;
  /** Drops the helper's job when the body is abandoned. */
  cancel(): void;
}

export function startMd5(writer: BlobWriter): Md5 {
  if (writer.onSpan) return new Md5OfSpans(writer);
  const h: Hash = createHash('md5');
  return { update: (b) => h.update(b), digest: async () => h.digest(), cancel() {} };
}

/*
 * A helper thread is plain JavaScript (no type stripping, no imports from this package). It
 * hashes each span it is sent from the shared memory it names, answers every span (the writer
 * may then reuse that memory), and answers `digest` with the MD5 of all of a job's spans.
 * Messages are handled in order, so a digest follows its job's last span.
 */
const HELPER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'cancel') return void jobs.delete(m.id);
  let h = jobs.get(m.id);
  if (!h) jobs.set(m.id, (h = createHash('md5')));
  if (m.op === 'span') {
    h.update(new Uint8Array(m.memory, m.offset, m.length));
    parentPort.postMessage({ id: m.id });
  } else {
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, md5: h.digest() });
  }
});
`;

type Reply = { id: number; md5?: Uint8Array };

/**
 * How many helpers at most: one per body in flight, up to the cores there are. MD5 is serial
 * within a body (each block chains on the one before), so one body never uses more than one;
 * several bodies at once each get their own core instead of queueing behind one thread.
 */
export const MAX_HELPERS = Math.max(1, availableParallelism());

/** One helper thread and the jobs (bodies) it hashes; a job stays on its helper, in order. */
class Helper {
  readonly worker: Worker;
  readonly jobs = new Map<number, Md5OfSpans>();
  alive = true;

  constructor() {
    const w = new Worker(HELPER_SOURCE, {
      eval: true,
      // Its heap holds a few objects per job; the bytes it hashes are the writers' shared memory.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    w.on('message', (r: Reply) => this.jobs.get(r.id)?.reply(r));
    const fail = (e: unknown) => {
      if (!this.alive) return;
      this.alive = false;
      helpers.splice(helpers.indexOf(this), 1);
      const err = e instanceof Error ? e : new Error(String(e));
      for (const j of this.jobs.values()) j.fail(err);
      this.jobs.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`md5 helper exited with code ${code}`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    w.unref();
    this.worker = w;
  }
}

const helpers: Helper[] = [];
let nextId = 0;

/**
 * The helper for a new body: an idle one if there is one, else a new one while there are fewer
 * than MAX_HELPERS, else the least loaded. Helpers are started on first need and kept (unref'd):
 * a thread costs ~1 MiB resident and some milliseconds to start.
 */
function pickHelper(): Helper {
  let best: Helper | undefined;
  for (const h of helpers) if (!best || h.jobs.size < best.jobs.size) best = h;
  if (best && (best.jobs.size === 0 || helpers.length >= MAX_HELPERS)) return best;
  const h = new Helper();
  helpers.push(h);
  return h;
}

/** Helper threads running now (for tests). */
export function helperCount(): number {
  return helpers.length;
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

class Md5OfSpans implements Md5 {
  readonly #id = ++nextId;
  readonly #helper = pickHelper();
  /** Spans sent and not yet answered, oldest first (the helper answers in order). */
  readonly #spans: Pending[] = [];
  #digest: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  #done = false;

  constructor(writer: BlobWriter) {
    this.#helper.jobs.set(this.#id, this);
    writer.onSpan!((span) => {
      if (this.#done) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        this.#spans.push({ resolve, reject });
        this.#helper.worker.postMessage({
          op: 'span',
          id: this.#id,
          memory: span.buffer,
          offset: span.byteOffset,
          length: span.byteLength,
        });
      });
    });
  }

  update(): void {}

  digest(): Promise<Buffer> {
    this.#done = true;
    // A helper that died took this job's state with it.
    if (!this.#helper.alive || !this.#helper.jobs.has(this.#id))
      return Promise.reject(new Error('md5 helper exited'));
    return new Promise((resolve, reject) => {
      this.#digest = { resolve, reject };
      this.#helper.worker.postMessage({ op: 'digest', id: this.#id });
    });
  }

  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    // Spans already sent are still hashed and answered: the writer waits for them before it
    // reuses their memory.
    if (this.#helper.alive) this.#helper.worker.postMessage({ op: 'cancel', id: this.#id });
    if (this.#spans.length === 0) this.#helper.jobs.delete(this.#id);
  }

  reply(r: Reply): void {
    if (r.md5) {
      this.#helper.jobs.delete(this.#id);
      this.#digest?.resolve(Buffer.from(r.md5.buffer, r.md5.byteOffset, r.md5.byteLength));
      return;
    }
    this.#spans.shift()?.resolve();
    if (this.#done && !this.#digest && this.#spans.length === 0) this.#helper.jobs.delete(this.#id);
  }

  fail(e: Error): void {
    for (const p of this.#spans.splice(0)) p.reject(e);
    this.#digest?.reject(e);
  }
}
