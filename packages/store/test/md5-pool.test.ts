/**
 * The MD5 helper pool (body/md5.ts): bodies in flight at once are hashed on separate helper
 * threads, up to MAX_HELPERS, and each body's spans are hashed in the order they were staged
 * even when the spans of several bodies interleave.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { BlobWriter } from '../src/backend/types.ts';
import { helperCount, MAX_HELPERS, startMd5 } from '../src/body/md5.ts';

/** A writer that stages nothing itself: the test hands its spans to the observer. */
function spanWriter(): { writer: BlobWriter; span: (b: Buffer) => Promise<void> } {
  let observer: ((span: Buffer) => Promise<void>) | undefined;
  const writer = {
    write: () => undefined,
    finish: async () => ({ size: 0 }),
    abort: async () => {},
    onSpan: (fn: (span: Buffer) => Promise<void>) => {
      observer = fn;
    },
  } as unknown as BlobWriter;
  return { writer, span: (b) => observer!(b) };
}

/** `b` copied into shared memory, as a staging ring holds it. */
function shared(b: Buffer): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(b.length));
  out.set(b);
  return out;
}

test('bodies in flight at once get their own helpers (up to MAX_HELPERS), each MD5 right', async () => {
  const n = MAX_HELPERS + 1;
  const bodies = Array.from({ length: n }, (_, i) => Array.from({ length: 5 }, () => randomBytes(1000 + i)));
  const jobs = bodies.map(() => spanWriter());
  const md5s = jobs.map((j) => startMd5(j.writer));
  // All jobs are open at once: the pool grows to one helper per body, bounded.
  assert.equal(helperCount(), Math.min(n, MAX_HELPERS));
  // Spans interleaved across bodies, several in flight per body: order must hold per body.
  const sent: Promise<void>[] = [];
  for (let k = 0; k < 5; k++)
    bodies.forEach((spans, i) => {
      sent.push(jobs[i]!.span(shared(spans[k]!)));
    });
  await Promise.all(sent);
  const digests = await Promise.all(md5s.map((m) => m.digest()));
  digests.forEach((d, i) => {
    const want = createHash('md5');
    for (const s of bodies[i]!) want.update(s);
    assert.equal(d.toString('hex'), want.digest('hex'), `body ${i}`);
  });
});

test('a finished body frees its helper for the next one: the pool does not grow past need', async () => {
  const before = helperCount();
  for (let i = 0; i < 3; i++) {
    const j = spanWriter();
    const m = startMd5(j.writer);
    await j.span(shared(Buffer.from(`body ${i}`)));
    assert.equal((await m.digest()).toString('hex'), createHash('md5').update(`body ${i}`).digest('hex'));
  }
  assert.equal(helperCount(), Math.max(before, 1));
});

test('a cancelled body answers its spans in flight, and its helper takes new bodies', async () => {
  const j = spanWriter();
  const m = startMd5(j.writer);
  const inFlight = j.span(shared(randomBytes(4096)));
  m.cancel();
  await inFlight;
  // After cancel the observer takes nothing more to the helper.
  await j.span(shared(randomBytes(16)));
  const k = spanWriter();
  const m2 = startMd5(k.writer);
  await k.span(shared(Buffer.from('next')));
  assert.equal((await m2.digest()).toString('hex'), createHash('md5').update('next').digest('hex'));
});
