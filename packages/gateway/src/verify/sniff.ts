import { fileTypeFromBuffer } from 'file-type';

/** file-type reads at most this many bytes ("the first 4100 bytes are enough for all formats"). */
export const SNIFF_BYTES = 4100;

/**
 * Types with no magic number: file-type cannot recognise them, so for these (and only these) an
 * undetected sample is accepted when it looks like text. Everything else must be recognised from
 * its bytes: an HTML page declared `image/png` has no PNG signature and is refused.
 * Deliberately absent: text/html and image/svg+xml (script in a file served from our bucket).
 */
const TEXT_TYPES = new Set(['text/plain', 'text/csv', 'text/markdown', 'application/json']);

/** Names file-type uses where clients commonly declare another spelling of the same format. */
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'audio/mp3': 'audio/mpeg',
  'application/x-pdf': 'application/pdf',
};

export function canonicalType(type: string): string {
  return ALIASES[type] ?? type;
}

export type Sniffed =
  /** The bytes' own type, as file-type names it. */
  | { kind: 'detected'; type: string }
  /** No signature, but a text type was declared and the sample is text. */
  | { kind: 'text' }
  /**
   * No signature, and `application/octet-stream` was declared: "arbitrary binary data" (RFC 2046
   * §4.5.1) is exactly what bytes of no known format are. A recognised format still has to be
   * declared as what it is (a ZIP declared octet-stream is a type_mismatch).
   */
  | { kind: 'opaque' }
  | { kind: 'unknown' };

export async function sniff(sample: Buffer, declaredType: string): Promise<Sniffed> {
  const found = await fileTypeFromBuffer(sample);
  if (found !== undefined) return { kind: 'detected', type: found.mime };
  if (TEXT_TYPES.has(declaredType) && looksLikeText(sample)) return { kind: 'text' };
  if (declaredType === 'application/octet-stream') return { kind: 'opaque' };
  return { kind: 'unknown' };
}

/** UTF-8 without NUL; a multi-byte character cut off by the end of the sample is allowed. */
export function looksLikeText(sample: Buffer): boolean {
  if (sample.includes(0)) return false;
  for (let cut = 0; cut <= Math.min(3, sample.length); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, sample.length - cut));
      return true;
    } catch {
      // try without the last byte(s)
    }
  }
  return false;
}
