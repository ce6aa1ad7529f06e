import { imageSize } from 'image-size';

export interface Dimensions {
  width: number;
  height: number;
}

/** Reads bytes `start..end` (inclusive) of the object; at most that many come back. */
export type RangeReader = (start: number, end: number) => Promise<Buffer>;

/**
 * How far a JPEG's frame header (SOF) is looked for. EXIF, ICC profiles and XMP come before it
 * and a camera file can carry hundreds of KB of them; a file that hides its SOF deeper is not
 * worth more range requests (→ image_unreadable).
 */
export const JPEG_SCAN_LIMIT = 4 * 2 ** 20;
const JPEG_MAX_SEGMENTS = 1024;
const READ_CHUNK = 64 * 1024;

/**
 * Pixel dimensions from the first bytes; for a JPEG whose SOF lies beyond them, further ranges
 * are read (bounded by JPEG_SCAN_LIMIT). undefined when they cannot be read.
 */
export async function imageDimensions(
  type: string,
  head: Buffer,
  size: number,
  read: RangeReader,
): Promise<Dimensions | undefined> {
  if (type === 'image/jpeg') return jpegDimensions(head, size, read);
  try {
    const d = imageSize(head);
    return d.width > 0 && d.height > 0 ? { width: d.width, height: d.height } : undefined;
  } catch {
    return undefined;
  }
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range (ITU T.81 Table B.1). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Walks the JPEG's marker segments (ITU T.81 B.1.1) to the first SOF; its bytes 5..8 are height, width. */
export async function jpegDimensions(
  head: Buffer,
  size: number,
  read: RangeReader,
): Promise<Dimensions | undefined> {
  const limit = Math.min(size, JPEG_SCAN_LIMIT);
  let window = head;
  let windowStart = 0;
  const bytes = async (at: number, n: number): Promise<Buffer | undefined> => {
    if (at + n > limit) return undefined;
    if (at < windowStart || at + n > windowStart + window.length) {
      window = await read(at, Math.min(limit, at + Math.max(n, READ_CHUNK)) - 1);
      windowStart = at;
      if (window.length < n) return undefined;
    }
    return window.subarray(at - windowStart, at - windowStart + n);
  };

  const soi = await bytes(0, 2);
  if (soi === undefined || soi[0] !== 0xff || soi[1] !== 0xd8) return undefined;
  let at = 2;
  for (let segments = 0; segments < JPEG_MAX_SEGMENTS; segments++) {
    const m = await bytes(at, 2);
    if (m === undefined || m[0] !== 0xff) return undefined;
    const marker = m[1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // standalone markers carry no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // EOI / start of scan before any frame
    const seg = await bytes(at + 2, isSof(marker) ? 7 : 2);
    if (seg === undefined) return undefined;
    const length = seg.readUInt16BE(0);
    if (length < 2) return undefined;
    if (isSof(marker)) {
      const height = seg.readUInt16BE(3);
      const width = seg.readUInt16BE(5);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    at += 2 + length;
  }
  return undefined;
}
