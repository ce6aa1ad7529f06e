// The progress bar of `chute upload` (TTY) and its plain-line twin, with a fake clock.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { barLine, formatBytes, formatDuration, plainProgress, Rate, ttyProgress } from '../src/progress.ts';
import { fileResume } from '../src/resume-file.ts';

/** Escape sequences made visible, so expectations can name them. */
const esc = (s: string) => s.replaceAll('\x1b', 'ESC');

test('sizes are decimal like the gateway\u2019s, durations short', () => {
  assert.deepEqual([0, 999, 1000, 1_500_000, 25_000_000, 4_200_000_000].map(formatBytes), [
    '0 B',
    '999 B',
    '1.00 kB',
    '1.50 MB',
    '25.0 MB',
    '4.20 GB',
  ]);
  assert.deepEqual([300, 9_900, 42_000, 125_000, 3_725_000].map(formatDuration), [
    '0.3s',
    '9.9s',
    '42s',
    '2m05s',
    '1h02m',
  ]);
});

test('a bar shows bytes, percent, rate and ETA; rate is over the last seconds and restarts after a retry', () => {
  const rate = new Rate(5_000);
  rate.add(0, 0);
  rate.add(10_000_000, 1_000);
  rate.add(20_000_000, 2_000);
  assert.equal(rate.perSecond(), 10_000_000);
  assert.equal(
    barLine({ name: 'a.png', total: 50_000_000, loaded: 20_000_000 }, rate.perSecond()),
    'a.png  [##########..............]  40%  20.0 MB / 50.0 MB  10.0 MB/s  ETA 3.0s',
  );
  rate.add(1_000_000, 3_000); // a retry sent the file again from the start
  assert.equal(rate.perSecond(), undefined);
  assert.equal(
    barLine({ name: 'e', total: 0, loaded: 0 }, undefined),
    'e  [########################] 100%  0 B / 0 B',
  );
});

test('TTY: rows are redrawn in place (cursor up, erase line), at most every 100 ms', () => {
  let out = '';
  let now = 0;
  const p = ttyProgress(
    {
      write: (s) => {
        out += s;
      },
    },
    () => now,
  );
  p.start(0, 'a.png', 1000);
  assert.equal(out, '\x1b[2Ka.png  [........................]   0%  0 B / 1.00 kB\n');
  out = '';
  now = 50;
  p.update(0, 500);
  assert.equal(out, '', 'throttled');
  now = 300;
  p.update(0, 600);
  assert.match(esc(out), /^ESC\[1AESC\[2Ka\.png {2}\[#{14}\.{10}\] {2}60%/);
  out = '';
  p.start(1, 'b.png', 10);
  p.finish(0, 'a.png: verified up_1');
  assert.match(esc(out), /ESC\[2Ka\.png: verified up_1\nESC\[2Kb\.png/);
});

test('plain: one line per start, note and finish; updates print nothing', () => {
  let out = '';
  const p = plainProgress({
    write: (s) => {
      out += s;
    },
  });
  p.start(0, 'a.png', 2_000_000);
  p.update(0, 1);
  p.note(0, 'upload: SlowDown, retry 1 in 0.5s');
  p.finish(0, 'a.png: verified up_1');
  assert.equal(
    out,
    'a.png: uploading 2.00 MB\na.png: upload: SlowDown, retry 1 in 0.5s\na.png: verified up_1\n',
  );
});

test('--resume records: one file per key, named by hash (a key with ../ in it stays inside), removable', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'chute-resume-'));
  try {
    const store = fileResume(path.join(dir, 'uploads'));
    assert.equal(await store.get('k'), undefined);
    await store.set('chute-upload:logo:../../etc/passwd', '{"v":1}');
    assert.equal(await store.get('chute-upload:logo:../../etc/passwd'), '{"v":1}');
    const names = await readdir(path.join(dir, 'uploads'));
    assert.equal(names.length, 1);
    assert.match(names[0]!, /^[0-9a-f]{64}\.json$/);
    await store.delete('chute-upload:logo:../../etc/passwd');
    assert.deepEqual(await readdir(path.join(dir, 'uploads')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
