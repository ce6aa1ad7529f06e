import { deflateSync } from 'node:zlib';
import { chunk } from '../../packages/gateway/test/helpers/images.ts';

/**
 * A real RGB PNG a browser decodes and shows: a diagonal gradient with a light disc, every row
 * present. `padTo` appends a private chunk so the file is that many bytes (a longer upload).
 */
export function logoPng(width: number, height: number, padTo = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  const r = Math.min(width, height) / 3;
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const inDisc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < r * r;
      const o = row + 1 + x * 3;
      raw[o] = inDisc ? 250 : 30 + Math.round((150 * x) / width);
      raw[o + 1] = inDisc ? 200 : 80 + Math.round((100 * y) / height);
      raw[o + 2] = inDisc ? 60 : 200;
    }
  }
  const head = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
  ];
  const end = chunk('IEND', Buffer.alloc(0));
  const size = head.reduce((n, b) => n + b.length, 0) + end.length;
  if (padTo <= size + 12) return Buffer.concat([...head, end]);
  return Buffer.concat([...head, chunk('prVt', Buffer.alloc(padTo - size - 12, 0x61)), end]);
}
