import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../src/units/duration.ts';
import { formatSize, parseSize } from '../src/units/size.ts';

test('parseSize: decimal KB/MB/GB, binary KiB/MiB/GiB, case-insensitive but for the i', () => {
  assert.equal(parseSize('20MB'), 20_000_000);
  assert.equal(parseSize('20mb'), 20_000_000);
  assert.equal(parseSize('4KiB'), 4096);
  assert.equal(parseSize('1.5GiB'), 1.5 * 2 ** 30);
  assert.equal(parseSize('512B'), 512);
  assert.equal(parseSize('1 GB'), 1e9);
  assert.equal(parseSize(0), 0);
  assert.equal(parseSize(1234), 1234, 'a number in code means bytes');
});

for (const bad of ['20', '20 M', 'MB', '-1MB', '1.0005KB', '20MBs', '', '0x10B', '1e3KB']) {
  test(`parseSize refuses ${JSON.stringify(bad)}`, () => {
    assert.throws(() => parseSize(bad), RangeError);
  });
}

test('parseSize refuses negative, fractional and unsafe numbers of bytes', () => {
  for (const n of [-1, 1.5, Number.NaN, 2 ** 60]) assert.throws(() => parseSize(n), RangeError, String(n));
});

test('formatSize picks the unit that divides evenly', () => {
  assert.equal(formatSize(20_000_000), '20 MB');
  assert.equal(formatSize(4096), '4 KiB');
  assert.equal(formatSize(1001), '1001 B');
});

test('parseDuration: "90s", "10m", "1h", "250ms"; refuses a bare "600" and "10 minutes"', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.throws(() => parseDuration('600'), RangeError);
  assert.throws(() => parseDuration('10 minutes'), RangeError);
  assert.throws(() => parseDuration('0.0001ms'), RangeError);
});
