import { createHash, type Hash } from 'node:crypto';
import { S3Error } from '@chute/errors';
import { HmacKey, safeEqual, sha256Hex } from './crypto.ts';
import { signRequest } from './sign-headers.ts';
import { chunkStringToSign, EMPTY_SHA256, trailerStringToSign } from './string-to-sign.ts';
import type { ChunkSigningContext, PayloadMode, SignedHeaders, SignHeadersInput } from './types.ts';

/**
 * aws-chunked bodies ("Transferring Payload in Multiple Chunks", "Signature calculations for
 * trailing headers"):
 *
 *   hex(size);chunk-signature=<sig>\r\n<size bytes>\r\n     (signed; the sig chains from the seed)
 *   hex(size)\r\n<size bytes>\r\n                          (STREAMING-UNSIGNED-PAYLOAD-TRAILER)
 *   …
 *   0;chunk-signature=<sig>\r\n\r\n                         (signed, no trailer)
 *   0[;chunk-signature=<sig>]\r\n<name>:<value>\r\n…[x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * A pure incremental parser: push() takes bytes as they arrive and returns the decoded payload as
 * subarrays of the input (no copies). With signed chunks, a chunk's bytes are only released once
 * its signature has verified, so a caller never stores bytes nobody signed; memory is bounded by
 * the chunk size (maxChunkSize). Unsigned chunks pass through as they arrive and may be of any
 * size: the AWS SDK sends each piece of a stream body as one chunk (a 30 MB Buffer in a Readable
 * is a 30 MB chunk), and S3 takes it. end() checks the body was complete and returns the trailers.
 */

const SIZE_LINE = 0;
const DATA = 1;
const DATA_CRLF = 2;
const TRAILER_LINE = 3;
const FINAL_CRLF = 4;
const DONE = 5;

const MAX_LINE = 4096;
const MAX_TRAILERS = 16;
const SIGNED_SIZE_LINE = /^([0-9a-fA-F]{1,16});chunk-signature=([0-9a-f]{64})$/;
const UNSIGNED_SIZE_LINE = /^([0-9a-fA-F]{1,16})(?:;.*)?$/;
const TRAILER = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;

/**
 * S3 refuses a chunk under 8 KiB that is not the last one with data: 400 InvalidChunkSizeError,
 * "Only the last chunk is allowed to have a size less than 8192 bytes" (what AWS SDK v3 users
 * meet when a stream yields small pieces; the SDK's own tests assert it against S3). S3 notices
 * it on the next chunk's header and names that chunk: <Chunk> is the 1-based number of the chunk
 * after the short one, <BadChunkSize> the short one's size.
 */
export const MIN_CHUNK_SIZE = 8192;

export interface ChunkedDecoderOptions {
  /** Smallest size of a chunk followed by another chunk with data. Defaults to MIN_CHUNK_SIZE. */
  minChunkSize?: number;
  /** Largest signed chunk accepted (its bytes are held until it verifies), bytes. 16 MiB. */
  maxChunkSize?: number;
}

type StreamingMode = Extract<PayloadMode, { kind: 'streaming-signed' | 'streaming-unsigned-trailer' }>;

const malformed = (why: string) => new S3Error('InvalidRequest', `Malformed aws-chunked body: ${why}`);

export class ChunkedDecoder {
  readonly #signed: boolean;
  readonly #trailer: boolean;
  readonly #seed: ChunkSigningContext | undefined;
  readonly #key: HmacKey | undefined;
  readonly #maxChunk: number;
  readonly #minChunk: number;

  #state = SIZE_LINE;
  #line = '';
  #lineCr = false;
  #remaining = 0;
  #crlf = 0;
  #previous: string;
  #claimed = '';
  #hash: Hash | undefined;
  #pending: Buffer[] = [];
  #trailers: Record<string, string> = {};
  #trailerCount = 0;
  #trailerText = '';
  #trailerSignature: string | undefined;
  #decoded = 0;
  #chunks = 0;
  #lastSize = 0;

  constructor(payload: StreamingMode, options: ChunkedDecoderOptions = {}) {
    this.#signed = payload.kind === 'streaming-signed';
    this.#trailer = payload.kind === 'streaming-signed' ? payload.trailer : true;
    this.#seed = payload.kind === 'streaming-signed' ? payload.seed : undefined;
    this.#key = this.#seed === undefined ? undefined : new HmacKey(this.#seed.signingKey);
    this.#previous = this.#seed?.seedSignature ?? '';
    this.#maxChunk = options.maxChunkSize ?? 16 * 1024 * 1024;
    this.#minChunk = options.minChunkSize ?? MIN_CHUNK_SIZE;
  }

  /** Payload bytes decoded so far (compare with x-amz-decoded-content-length). */
  get decodedLength(): number {
    return this.#decoded;
  }

  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      switch (this.#state) {
        case DATA: {
          const n = Math.min(this.#remaining, len - pos);
          const slice = buf.subarray(pos, pos + n);
          pos += n;
          this.#remaining -= n;
          if (this.#hash !== undefined) {
            this.#hash.update(slice);
            this.#pending.push(slice);
          } else {
            out.push(slice);
            this.#decoded += n;
          }
          if (this.#remaining === 0) {
            this.#state = DATA_CRLF;
            this.#crlf = 0;
          }
          break;
        }
        case DATA_CRLF:
        case FINAL_CRLF: {
          const want = this.#crlf === 0 ? 0x0d : 0x0a;
          if (buf[pos] !== want) throw malformed('chunk data not followed by CRLF');
          pos++;
          if (++this.#crlf === 2) {
            if (this.#state === FINAL_CRLF) this.#state = DONE;
            else this.#endChunk(out);
          }
          break;
        }
        case SIZE_LINE:
        case TRAILER_LINE: {
          pos = this.#readLine(buf, pos);
          break;
        }
        case DONE:
          throw malformed('bytes after the final chunk');
      }
    }
    return out;
  }

  /** Declares the body complete; returns the trailers (lowercase names, no signature). */
  end(): Record<string, string> {
    // The SDK ends an unsigned body without a checksum with a bare "0\r\n".
    const bareEnd =
      this.#state === TRAILER_LINE &&
      !this.#signed &&
      this.#line === '' &&
      !this.#lineCr &&
      this.#trailerCount === 0;
    if (this.#state !== DONE && !bareEnd) {
      throw new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
    }
    return { ...this.#trailers };
  }

  /** Reads up to the next LF; a complete line is handled, a partial one kept for the next push. */
  #readLine(buf: Buffer, pos: number): number {
    const lf = buf.indexOf(0x0a, pos);
    const end = lf === -1 ? buf.length : lf;
    if (end > pos) {
      if (this.#lineCr) throw malformed('bare CR in a chunk header');
      let stop = end;
      if (lf !== -1 && buf[end - 1] === 0x0d) {
        stop = end - 1;
        this.#lineCr = true;
      } else if (lf === -1 && buf[end - 1] === 0x0d) {
        stop = end - 1;
        this.#lineCr = true;
      }
      this.#line += buf.toString('latin1', pos, stop);
      if (this.#line.length > MAX_LINE) throw malformed('chunk header line too long');
    }
    if (lf === -1) return buf.length;
    if (!this.#lineCr) throw malformed('chunk header line not terminated by CRLF');
    const line = this.#line;
    this.#line = '';
    this.#lineCr = false;
    if (this.#state === SIZE_LINE) this.#sizeLine(line);
    else this.#trailerLine(line);
    return lf + 1;
  }

  #sizeLine(line: string): void {
    const m = (this.#signed ? SIGNED_SIZE_LINE : UNSIGNED_SIZE_LINE).exec(line);
    if (m === null) throw malformed(`bad chunk header "${line.slice(0, 100)}"`);
    const size = Number.parseInt(m[1]!, 16);
    if (this.#signed && size > this.#maxChunk)
      throw malformed(`signed chunk of ${size} bytes exceeds ${this.#maxChunk}`);
    this.#chunks++;
    if (size > 0 && this.#chunks > 1 && this.#lastSize < this.#minChunk) {
      throw new S3Error('InvalidChunkSizeError', undefined, {
        Chunk: String(this.#chunks),
        BadChunkSize: String(this.#lastSize),
      });
    }
    this.#lastSize = size;
    if (this.#signed) this.#claimed = m[2]!;
    if (size > 0) {
      this.#remaining = size;
      this.#state = DATA;
      if (this.#signed) this.#hash = createHash('sha256');
      return;
    }
    // The final, empty chunk is signed like any other (over the hash of no bytes).
    if (this.#signed) this.#verifyChunk(EMPTY_SHA256);
    if (this.#trailer) {
      this.#state = TRAILER_LINE;
    } else {
      this.#state = FINAL_CRLF;
      this.#crlf = 0;
    }
  }

  #endChunk(out: Buffer[]): void {
    if (this.#hash !== undefined) {
      this.#verifyChunk(this.#hash.digest('hex'));
      this.#hash = undefined;
      for (const b of this.#pending) {
        out.push(b);
        this.#decoded += b.length;
      }
      this.#pending = [];
    }
    this.#state = SIZE_LINE;
  }

  #verifyChunk(chunkHash: string): void {
    const seed = this.#seed!;
    const expected = this.#key!.hex(chunkStringToSign(seed.amzDate, seed.scope, this.#previous, chunkHash));
    if (!safeEqual(expected, this.#claimed)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { ChunkNumber: String(this.#chunks) });
    }
    this.#previous = expected;
  }

  #trailerLine(line: string): void {
    if (line === '') {
      if (this.#signed && this.#trailerSignature === undefined) {
        throw malformed('signed trailers without x-amz-trailer-signature');
      }
      if (this.#trailerSignature !== undefined) this.#verifyTrailer();
      this.#state = DONE;
      return;
    }
    if (this.#trailerSignature !== undefined)
      throw malformed('x-amz-trailer-signature must be the last trailer');
    const m = TRAILER.exec(line);
    if (m === null) throw malformed('bad trailer line');
    const name = m[1]!.toLowerCase();
    const value = m[2]!;
    if (name === 'x-amz-trailer-signature') {
      if (!this.#signed) throw malformed('x-amz-trailer-signature in an unsigned body');
      this.#trailerSignature = value;
      return;
    }
    if (++this.#trailerCount > MAX_TRAILERS) throw malformed('too many trailers');
    this.#trailers[name] = value;
    // "the trailing headers ... name:value\n" is what the trailer signature covers.
    this.#trailerText += `${name}:${value}\n`;
  }

  #verifyTrailer(): void {
    const seed = this.#seed!;
    const toSign = trailerStringToSign(
      seed.amzDate,
      seed.scope,
      this.#previous,
      sha256Hex(this.#trailerText),
    );
    if (!safeEqual(this.#key!.hex(toSign), this.#trailerSignature!)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { Trailer: 'x-amz-trailer-signature' });
    }
  }
}

export interface EncodeChunksOptions {
  /** Bytes per chunk; AWS requires ≥ 8 KiB for all but the last. Defaults to 65536. */
  chunkSize?: number;
  /** Trailers to append (the *-TRAILER variants), e.g. { 'x-amz-checksum-crc32': '…' }. */
  trailers?: Record<string, string>;
}

/** Client side of STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER): the whole encoded body. */
export function encodeSignedChunks(
  data: Buffer,
  seed: ChunkSigningContext,
  options: EncodeChunksOptions = {},
): Buffer {
  const chunkSize = options.chunkSize ?? 65536;
  const key = new HmacKey(seed.signingKey);
  const parts: Buffer[] = [];
  let previous = seed.seedSignature;
  const chunk = (bytes: Buffer) => {
    const sig = key.hex(chunkStringToSign(seed.amzDate, seed.scope, previous, sha256Hex(bytes)));
    previous = sig;
    parts.push(Buffer.from(`${bytes.length.toString(16)};chunk-signature=${sig}\r\n`, 'latin1'));
  };
  for (let off = 0; off < data.length; off += chunkSize) {
    const bytes = data.subarray(off, Math.min(off + chunkSize, data.length));
    chunk(bytes);
    parts.push(bytes, Buffer.from('\r\n'));
  }
  chunk(Buffer.alloc(0));
  if (options.trailers === undefined) {
    parts.push(Buffer.from('\r\n'));
  } else {
    let text = '';
    let wire = '';
    for (const [name, value] of Object.entries(options.trailers)) {
      text += `${name.toLowerCase()}:${value}\n`;
      wire += `${name.toLowerCase()}:${value}\r\n`;
    }
    const sig = key.hex(trailerStringToSign(seed.amzDate, seed.scope, previous, sha256Hex(text)));
    parts.push(Buffer.from(`${wire}x-amz-trailer-signature:${sig}\r\n\r\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** Client side of STREAMING-UNSIGNED-PAYLOAD-TRAILER, as the AWS SDK v3 frames it. */
export function encodeUnsignedChunks(data: Buffer, options: EncodeChunksOptions = {}): Buffer {
  const chunkSize = options.chunkSize ?? 65536;
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunkSize) {
    const bytes = data.subarray(off, Math.min(off + chunkSize, data.length));
    parts.push(Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n'));
  if (options.trailers !== undefined) {
    let wire = '';
    for (const [name, value] of Object.entries(options.trailers))
      wire += `${name.toLowerCase()}:${value}\r\n`;
    parts.push(Buffer.from(`${wire}\r\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

export interface SignedChunkedUpload {
  headers: SignedHeaders;
  body: Buffer;
}

/**
 * A complete header-signed aws-chunked request (what the AWS SDK never sends, but S3 accepts):
 * content-encoding, x-amz-decoded-content-length, content-length and x-amz-trailer are set and
 * signed, then the body is chained from the seed signature.
 */
export function signChunkedUpload(
  input: Omit<SignHeadersInput, 'payloadHash'> & { body: Buffer } & EncodeChunksOptions,
): SignedChunkedUpload {
  const trailer = input.trailers !== undefined;
  const payloadHash = trailer
    ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
    : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  // The encoded length does not depend on signature values, only on their fixed length.
  const dummy: ChunkSigningContext = {
    seedSignature: '',
    amzDate: '',
    scope: '',
    signingKey: Buffer.alloc(32),
  };
  const length = encodeSignedChunks(input.body, dummy, input).length;
  const headers: Record<string, string> = {
    ...input.headers,
    'content-encoding': 'aws-chunked',
    'content-length': String(length),
    'x-amz-decoded-content-length': String(input.body.length),
  };
  if (trailer) headers['x-amz-trailer'] = Object.keys(input.trailers!).join(',').toLowerCase();
  const signed = signRequest({ ...input, headers, payloadHash });
  return { headers: signed.headers, body: encodeSignedChunks(input.body, signed.chunkContext, input) };
}
