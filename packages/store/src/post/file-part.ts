/**
 * The fast path for the one large part of a POST form: the `file` part's bytes run until the
 * next delimiter, "CRLF dash-boundary" (RFC 2046 §5.1.1: "The boundary delimiter MUST occur at
 * the beginning of a line … the initial CRLF is considered to be attached to the boundary
 * delimiter line rather than part of the preceding part"). busboy reads the fields and part
 * headers; the file's bytes are scanned here with Buffer#indexOf, which runs at memory speed
 * where a JavaScript search costs more than the MD5 of the same bytes.
 */

/** The `boundary` parameter of a multipart Content-Type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  return b ? b : undefined;
}

/** The `name` parameter of a part's Content-Disposition (quoted-string or token), or undefined. */
function partName(headerBlock: string): string | undefined {
  for (const line of headerBlock.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const value = line.slice(colon + 1);
    // busboy skips a part whose disposition is not form-data; so must the search.
    if (!/^\s*form-data\s*(;|$)/i.test(value)) return undefined;
    const m = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
    if (!m) return undefined;
    return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
  }
  return undefined;
}

/**
 * Where the data of the first part named `file` begins in the raw bytes of a form, or undefined
 * when those bytes do not show it plainly (the caller then keeps busboy's own file stream).
 */
export function fileDataOffset(raw: Buffer, boundary: string): number | undefined {
  const dash = Buffer.from(`--${boundary}`);
  let at = raw.indexOf(dash);
  while (at >= 0) {
    const atLineStart = at === 0 || (raw[at - 1] === 0x0a && raw[at - 2] === 0x0d);
    if (atLineStart) {
      let p = at + dash.length;
      if (raw[p] === 0x2d && raw[p + 1] === 0x2d) return undefined; // the close delimiter
      while (raw[p] === 0x20 || raw[p] === 0x09) p++; // transport padding
      if (raw[p] !== 0x0d || raw[p + 1] !== 0x0a) return undefined;
      const headersStart = p + 2;
      const end =
        raw[headersStart] === 0x0d && raw[headersStart + 1] === 0x0a
          ? headersStart - 2 // a part with no header at all
          : raw.indexOf('\r\n\r\n', headersStart);
      if (end < 0) return undefined;
      const name = partName(raw.subarray(headersStart, end).toString('latin1'));
      if (name?.toLowerCase() === 'file') return end + 4;
      at = raw.indexOf(dash, end + 4);
    } else {
      at = raw.indexOf(dash, at + 1);
    }
  }
  return undefined;
}

/**
 * Splits a stream of raw bytes at the first "\r\n--boundary": `push` returns the data before it
 * (possibly several slices, never copying the large ones) and whether the delimiter was found.
 * Up to delimiter-length − 1 bytes are held back between calls in case a delimiter straddles two
 * chunks.
 */
export class FilePartScanner {
  readonly #needle: Buffer;
  #tail: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(boundary: string) {
    this.#needle = Buffer.from(`\r\n--${boundary}`);
  }

  get done(): boolean {
    return this.#done;
  }

  push(chunk: Buffer): { data: Buffer[]; done: boolean } {
    if (this.#done) return { data: [], done: true };
    const n = this.#needle;
    const data: Buffer[] = [];
    if (this.#tail.length > 0) {
      if (chunk.length < n.length) {
        chunk = Buffer.concat([this.#tail, chunk]);
      } else {
        // Any match in tail + (n − 1) bytes of the chunk starts inside the tail.
        const junction = Buffer.concat([this.#tail, chunk.subarray(0, n.length - 1)]);
        const at = junction.indexOf(n);
        if (at >= 0) {
          if (at > 0) data.push(this.#tail.subarray(0, at));
          this.#tail = Buffer.alloc(0);
          this.#done = true;
          return { data, done: true };
        }
        data.push(this.#tail);
      }
      this.#tail = Buffer.alloc(0);
    }
    const at = chunk.indexOf(n);
    if (at >= 0) {
      if (at > 0) data.push(chunk.subarray(0, at));
      this.#done = true;
      return { data, done: true };
    }
    const keep = Math.min(n.length - 1, chunk.length);
    if (chunk.length > keep) data.push(chunk.subarray(0, chunk.length - keep));
    this.#tail = Buffer.from(chunk.subarray(chunk.length - keep));
    return { data, done: false };
  }

  /** The bytes held back; at the end of the body they mean the delimiter never came. */
  get pending(): number {
    return this.#tail.length;
  }
}
