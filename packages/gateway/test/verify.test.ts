import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentDisposition } from '../src/http/download.ts';
import { JPEG_SCAN_LIMIT, jpegDimensions } from '../src/verify/image.ts';
import { looksLikeText, SNIFF_BYTES, sniff } from '../src/verify/sniff.ts';
import { HTML, jpeg, png } from './helpers/images.ts';

function reader(buf: Buffer) {
  const reads: [number, number][] = [];
  return {
    reads,
    read: async (start: number, end: number) => {
      reads.push([start, end]);
      return buf.subarray(start, end + 1);
    },
  };
}

describe('jpegDimensions', () => {
  test('SOF in the first bytes: no extra read', async () => {
    const j = jpeg(640, 480);
    const r = reader(j);
    assert.deepEqual(await jpegDimensions(j.subarray(0, SNIFF_BYTES), j.length, r.read), {
      width: 640,
      height: 480,
    });
    assert.equal(r.reads.length, 0);
  });

  test('SOF after a 200 KB EXIF segment: found with bounded range reads', async () => {
    const j = jpeg(5000, 3000, 200_000);
    const r = reader(j);
    assert.deepEqual(await jpegDimensions(j.subarray(0, SNIFF_BYTES), j.length, r.read), {
      width: 5000,
      height: 3000,
    });
    assert.ok(r.reads.length <= 2, `reads ${JSON.stringify(r.reads)}`);
  });

  test('a chain of APPn segments past the scan limit → undefined, reading no further than the limit', async () => {
    const seg = Buffer.alloc(65_537);
    seg[0] = 0xff;
    seg[1] = 0xe2;
    seg.writeUInt16BE(65_535, 2);
    const j = Buffer.concat([Buffer.from([0xff, 0xd8]), ...Array.from({ length: 80 }, () => seg)]);
    const r = reader(j);
    assert.equal(await jpegDimensions(j.subarray(0, SNIFF_BYTES), j.length, r.read), undefined);
    assert.ok(r.reads.every(([, end]) => end < JPEG_SCAN_LIMIT));
  });

  test('garbage after SOI (no marker) → undefined', async () => {
    const j = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(100, 0x41)]);
    assert.equal(await jpegDimensions(j, j.length, reader(j).read), undefined);
  });
});

describe('sniff', () => {
  test('HTML declared image/png → unknown (no PNG signature)', async () => {
    assert.deepEqual(await sniff(HTML, 'image/png'), { kind: 'unknown' });
  });
  test('HTML declared text/plain → text; the same bytes declared text/html → unknown (never a text type)', async () => {
    assert.deepEqual(await sniff(HTML, 'text/plain'), { kind: 'text' });
    assert.deepEqual(await sniff(HTML, 'text/html'), { kind: 'unknown' });
  });
  test('PNG bytes → detected image/png whatever was declared', async () => {
    assert.deepEqual(await sniff(png(1, 1), 'image/gif'), { kind: 'detected', type: 'image/png' });
  });
  test('looksLikeText: a UTF-8 character cut by the sample end is fine; NUL or invalid UTF-8 is not', () => {
    assert.equal(looksLikeText(Buffer.from('héllo €').subarray(0, -1)), true);
    assert.equal(looksLikeText(Buffer.from([0x61, 0x00, 0x62])), false);
    assert.equal(looksLikeText(Buffer.from([0x61, 0xff, 0xfe, 0x61, 0x61, 0x61])), false);
  });
});

describe('contentDisposition', () => {
  test('ASCII fallback plus RFC 8187 filename*; quotes and backslashes cannot break out', () => {
    assert.equal(
      contentDisposition('logo.png'),
      `attachment; filename="logo.png"; filename*=UTF-8''logo.png`,
    );
    assert.equal(
      contentDisposition('a"b\\c é.png'),
      `attachment; filename="a_b_c _.png"; filename*=UTF-8''a%22b%5Cc%20%C3%A9.png`,
    );
  });
});
