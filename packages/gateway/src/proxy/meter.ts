import { createHash } from 'node:crypto';
import { ChuteError } from '@chute/errors';

export interface Digests {
  /** Hex, as S3 reports a single PUT's ETag. */
  md5: string;
  /** Base64, as the API declares checksums. */
  sha256: string;
}

export interface MeteredBody {
  /** The first bytes (up to `sampleBytes`), read before anything is sent on. */
  sample: Buffer;
  /**
   * Everything, sample first, pulled from the client as storage takes it. Throws (and so aborts
   * the upstream request) on a byte past `size`, an early end, or a declared checksum that differs.
   */
  body: AsyncIterable<Uint8Array>;
  /** Available once `body` has been read to its end. */
  digests(): Digests;
}

/**
 * The client's body held to its declaration while it streams: counted, hashed (MD5 + SHA-256) and
 * sampled for sniffing. The last chunk is held back until the client's body has ended and every
 * check has passed: storage was signed Content-Length = size, so until it has that last chunk it
 * has fewer bytes than signed and stores nothing — whatever the client does next (one byte more,
 * a bad checksum, hanging up), nothing half-written or unchecked lands.
 */
export async function meterBody(
  stream: AsyncIterable<Uint8Array> | null,
  options: { size: number; sampleBytes: number; checksum?: string | undefined },
): Promise<MeteredBody> {
  const { size } = options;
  const reader = stream?.[Symbol.asyncIterator]();
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let seen = 0;
  let ended = reader === undefined;
  let digests: Digests | undefined;

  const pull = async (): Promise<Buffer | undefined> => {
    if (ended || reader === undefined) return undefined;
    const { done, value } = await reader.next();
    if (done) {
      ended = true;
      return undefined;
    }
    seen += value.byteLength;
    if (seen > size) {
      throw new ChuteError('too_large', {
        message: `The body is longer than the declared size (${size} bytes).`,
        details: { size },
      });
    }
    const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    md5.update(b);
    sha256.update(b);
    return b;
  };
  const cancel = () => {
    if (!ended) reader?.return?.().catch(() => {});
    ended = true;
  };

  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    while (headBytes < Math.min(options.sampleBytes, size)) {
      const b = await pull();
      if (b === undefined) break;
      head.push(b);
      headBytes += b.length;
    }
  } catch (e) {
    cancel();
    throw e;
  }
  const first = Buffer.concat(head, headBytes);

  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      let held: Buffer | undefined = first.length > 0 ? first : undefined;
      for (let next = await pull(); next !== undefined; next = await pull()) {
        if (held !== undefined) yield held;
        held = next;
      }
      if (seen < size) {
        throw new ChuteError('invalid_request', {
          message: `The body ended after ${seen} of the declared ${size} bytes.`,
          details: { field: 'size', received: seen, size },
        });
      }
      digests = { md5: md5.digest('hex'), sha256: sha256.digest('base64') };
      if (options.checksum !== undefined && digests.sha256 !== options.checksum) {
        throw new ChuteError('invalid_request', {
          message: 'The body does not match the declared checksum.',
          details: { field: 'checksum', reason: 'checksum_mismatch' },
        });
      }
      if (held !== undefined) yield held;
    } finally {
      cancel();
    }
  }

  return {
    sample: first.subarray(0, Math.min(options.sampleBytes, first.length)),
    body: body(),
    digests() {
      if (digests === undefined) throw new Error('body not read to its end');
      return digests;
    },
  };
}
