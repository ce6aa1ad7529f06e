/**
 * readPostForm over a body that hands out reused memory (a SocketBody's contract): each chunk is
 * valid only until its promise settles, then the memory is overwritten. The file must come out
 * exactly — so nothing of a chunk may be kept past that (busboy's held blocks, the scanner's
 * slices waiting in the file stream, a reader whose writer is behind) — over many chunkings,
 * with a reader that is sometimes slow. Bad inputs tried: file contents that look like a
 * delimiter, a body cut off inside the file.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { RequestBody } from '../src/body/request-body.ts';
import { readPostForm } from '../src/post/form.ts';

const B = '----chuteviews';

/** Deterministic pseudo-random sizes 1..max, so a failure can be replayed from its seed. */
function* sizes(seed: number, max: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    yield 1 + (x % max);
  }
}

/** Delivers `wire` in chunks of one reused buffer, scribbled over once each chunk is let go. */
class ReusingBody implements RequestBody {
  complete = false;
  readonly #wire: Buffer;
  readonly #seed: number;
  readonly #max: number;
  readonly #cutAt: number;

  constructor(wire: Buffer, seed: number, max: number, cutAt = -1) {
    this.#wire = wire;
    this.#seed = seed;
    this.#max = max;
    this.#cutAt = cutAt;
  }

  async consume(onChunk: (b: Buffer) => Promise<void> | undefined): Promise<void> {
    const mem = Buffer.alloc(this.#max);
    const it = sizes(this.#seed, this.#max);
    for (let i = 0; i < this.#wire.length; ) {
      if (this.#cutAt >= 0 && i >= this.#cutAt) throw new Error('request closed before its body ended');
      const n = Math.min(it.next().value as number, this.#wire.length - i);
      this.#wire.copy(mem, 0, i, i + n);
      i += n;
      const p = onChunk(mem.subarray(0, n));
      if (p) await p;
      mem.fill(0xee);
      // Now and then the next read comes later (a slow client).
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    this.complete = true;
  }

  discard(): void {}
}

function form(file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n` +
        `--${B}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    file,
    Buffer.from(`\r\n--${B}--\r\n`),
  ]);
}

/** Reads the file part like receive.ts: flowing, and now and then a writer that is behind. */
async function readFile(body: RequestBody): Promise<Buffer> {
  const f = await readPostForm(body, `multipart/form-data; boundary=${B}`);
  assert.equal(f.fields.key, 'k');
  const parts: Buffer[] = [];
  let k = 0;
  await new Promise<void>((resolve, reject) => {
    const s = f.file.stream;
    s.on('data', (c: Buffer) => {
      // Copied when taken, as the staging ring does; a stalled writer holds the next one back.
      parts.push(Buffer.from(c));
      if (++k % 3 === 0) {
        s.pause();
        setTimeout(() => s.resume(), 1);
      }
    });
    s.on('end', resolve);
    s.on('error', reject);
  });
  return Buffer.concat(parts);
}

const files = [
  randomBytes(300_000),
  Buffer.concat([randomBytes(70_000), Buffer.from(`\r\n--${B.slice(0, -1)}`), randomBytes(90_000)]),
  Buffer.from(`\r\n--${B.slice(0, 5)}`.repeat(5000)),
];

test('file bytes come out exactly when every chunk is reused memory, over many chunkings', async () => {
  for (const [i, file] of files.entries()) {
    for (const [seed, max] of [
      [1, 1000],
      [2, 65536],
      [3, 16384],
      [4, 70_000],
      [5, 7],
    ] as const) {
      if (max < 100 && file.length > 100_000) continue; // byte-sized reads of 300 KB: slow, no news
      const got = await readFile(new ReusingBody(form(file), seed, max));
      assert.ok(got.equals(file), `file ${i}, seed ${seed}, reads of up to ${max}: ${got.length} bytes`);
    }
  }
});

test('a body cut off inside the file fails the file stream, over reused memory', async () => {
  const file = randomBytes(200_000);
  await assert.rejects(readFile(new ReusingBody(form(file), 9, 65536, 150_000)), { code: 'IncompleteBody' });
});
