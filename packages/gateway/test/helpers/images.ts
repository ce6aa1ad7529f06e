import { crc32, deflateSync } from 'node:zlib';

/** One PNG chunk: length, type, data, CRC-32 of type+data. */
export function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid PNG of width×height (grey, 8-bit), padded with a private chunk to `size` bytes when
 * asked. The pixel data is one deflate stream of zero rows, so even a huge image stays small.
 */
export function png(width: number, height: number, size?: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((width + 1) * Math.min(height, 64)); // rows of filter byte + pixels (truncated for big images)
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
  ];
  const end = chunk('IEND', Buffer.alloc(0));
  let out = Buffer.concat([...parts, end]);
  if (size !== undefined && size > out.length) {
    const pad = size - out.length - 12;
    if (pad < 0) throw new RangeError('size too small for a padding chunk');
    out = Buffer.concat([...parts, chunk('prVt', Buffer.alloc(pad, 0x61)), end]);
  }
  return out;
}

/** A baseline JPEG header whose SOF0 comes after an APP1 segment of `app1Bytes` (EXIF-like). */
export function jpeg(width: number, height: number, app1Bytes = 16): Buffer {
  const segment = (marker: number, payload: Buffer) => {
    const h = Buffer.from([0xff, marker, 0, 0]);
    h.writeUInt16BE(payload.length + 2, 2);
    return Buffer.concat([h, payload]);
  };
  const app0 = segment(0xe0, Buffer.from('4a46494600010100000100010000', 'hex'));
  // A segment holds at most 65533 bytes: a bigger "EXIF" is an APP1 followed by APP2 segments (as ICC profiles are).
  const app1: Buffer[] = [];
  for (let left = app1Bytes, first = true; left > 0 || first; first = false) {
    const n = Math.min(left, 65_000);
    const payload = first
      ? Buffer.concat([Buffer.from('Exif\0\0'), Buffer.alloc(Math.max(0, n - 6), 0x20)])
      : Buffer.alloc(n, 0x20);
    app1.push(segment(first ? 0xe1 : 0xe2, payload));
    left -= n;
  }
  const sof = Buffer.alloc(9);
  sof[0] = 8;
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof[5] = 1;
  sof[6] = 1;
  sof[7] = 0x11;
  sof[8] = 0;
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    app0,
    ...app1,
    segment(0xc0, sof),
    segment(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0])),
    Buffer.alloc(64, 0x11),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** An HTML page: what an attacker uploads hoping it is served inline from the bucket's origin. */
export const HTML = Buffer.from(
  '<!doctype html><html><body><script>alert(document.domain)</script></body></html>\n',
);
