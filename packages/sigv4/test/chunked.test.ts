import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { S3Error } from '@chute/errors';
import { getAwsChunkedEncodingStream } from '@smithy/core/serde';
import {
  ChunkedDecoder,
  type ChunkedDecoderOptions,
  encodeSignedChunks,
  encodeUnsignedChunks,
  signChunkedUpload,
} from '../src/chunked.ts';
import { signRequest } from '../src/sign-headers.ts';
import { deriveSigningKey } from '../src/signing-key.ts';
import type { ChunkSigningContext, PayloadMode, VerifyOptions } from '../src/types.ts';
import { verifyRequest } from '../src/verify.ts';
import { FIXED_NOW, s3ErrorOf } from './helpers.ts';

// "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks",
// Example: PUT Object — 66560 bytes of 'a' in chunks of 64 KiB, 1 KiB and 0.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EXAMPLE_CREDS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET };
const DOC_DATE = Date.UTC(2013, 4, 24);
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const CHUNK_SIGS = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];
const DATA = Buffer.alloc(66560, 'a');
const docBody = () =>
  Buffer.concat([
    Buffer.from(`10000;chunk-signature=${CHUNK_SIGS[0]}\r\n`),
    DATA.subarray(0, 65536),
    Buffer.from(`\r\n400;chunk-signature=${CHUNK_SIGS[1]}\r\n`),
    DATA.subarray(65536),
    Buffer.from(`\r\n0;chunk-signature=${CHUNK_SIGS[2]}\r\n\r\n`),
  ]);

const docContext = (seedSignature = SEED): ChunkSigningContext => ({
  seedSignature,
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  signingKey: deriveSigningKey(SECRET, '20130524', 'us-east-1', 's3'),
});
const signedMode = (seed: ChunkSigningContext, trailer = false): PayloadMode => ({
  kind: 'streaming-signed',
  trailer,
  seed,
});
const UNSIGNED: PayloadMode = { kind: 'streaming-unsigned-trailer' };

function decodeAll(
  mode: PayloadMode,
  pieces: Buffer[],
  options?: ChunkedDecoderOptions,
): { data: Buffer; trailers: Record<string, string> } {
  if (mode.kind !== 'streaming-signed' && mode.kind !== 'streaming-unsigned-trailer') throw new Error('mode');
  const d = new ChunkedDecoder(mode, options);
  const out: Buffer[] = [];
  for (const p of pieces) out.push(...d.push(p));
  const trailers = d.end();
  return { data: Buffer.concat(out), trailers };
}

function decodeError(mode: PayloadMode, body: Buffer, options?: ChunkedDecoderOptions): S3Error {
  return s3ErrorOf(() => decodeAll(mode, [body], options));
}

describe('aws-chunked (doc example)', () => {
  it('computes the doc seed signature from the doc request headers', () => {
    const signed = signRequest({
      method: 'PUT',
      endpoint: 'https://s3.amazonaws.com',
      path: '/examplebucket/chunkObject.txt',
      headers: {
        'content-encoding': 'aws-chunked',
        'content-length': '66824',
        'x-amz-decoded-content-length': '66560',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      credentials: EXAMPLE_CREDS,
      region: 'us-east-1',
      now: DOC_DATE,
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    assert.equal(signed.signature, SEED);
    const opts: VerifyOptions = { lookupSecret: () => SECRET, now: DOC_DATE, region: 'us-east-1' };
    const r = verifyRequest(
      { method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', rawQuery: '', headers: signed.headers },
      opts,
    );
    assert.ok(r.kind === 'sigv4-header' && r.payload.kind === 'streaming-signed');
    assert.deepEqual(r.payload.seed, docContext());
  });

  it('encodes the doc body byte for byte (66824 bytes)', () => {
    const body = encodeSignedChunks(DATA, docContext());
    assert.equal(body.length, 66824);
    assert.ok(body.equals(docBody()));
  });

  it('verifies and decodes the doc body in one push', () => {
    const { data, trailers } = decodeAll(signedMode(docContext()), [docBody()]);
    assert.ok(data.equals(DATA));
    assert.deepEqual(trailers, {});
  });

  it('verifies the doc body pushed in 1000-byte pieces', () => {
    const body = docBody();
    const pieces: Buffer[] = [];
    for (let i = 0; i < body.length; i += 1000) pieces.push(body.subarray(i, i + 1000));
    assert.ok(decodeAll(signedMode(docContext()), pieces).data.equals(DATA));
  });

  it('refuses the doc body with one data byte changed ("a"→"b" in chunk 2): SignatureDoesNotMatch', () => {
    const body = docBody();
    body[body.length - 200] = 0x62;
    assert.equal(decodeError(signedMode(docContext()), body).code, 'SignatureDoesNotMatch');
  });

  it('refuses the doc body with a wrong seed (last hex digit changed): SignatureDoesNotMatch', () => {
    assert.equal(
      decodeError(signedMode(docContext(`${SEED.slice(0, -1)}b`)), docBody()).code,
      'SignatureDoesNotMatch',
    );
  });

  for (const i of [0, 1, 2]) {
    it(`refuses the doc body with chunk ${i + 1}'s signature changed: SignatureDoesNotMatch`, () => {
      const sig = CHUNK_SIGS[i]!;
      const body = Buffer.from(
        docBody()
          .toString('latin1')
          .replace(sig, `${sig.slice(0, -1)}0`),
        'latin1',
      );
      assert.equal(decodeError(signedMode(docContext()), body).code, 'SignatureDoesNotMatch');
    });
  }

  it('withholds chunk data until the chunk signature has verified', () => {
    const d = new ChunkedDecoder(
      signedMode(docContext()) as Extract<PayloadMode, { kind: 'streaming-signed' }>,
    );
    const body = docBody();
    assert.deepEqual(d.push(body.subarray(0, 30000)), []);
    const released = d.push(body.subarray(30000, 65700));
    assert.equal(Buffer.concat(released).length, 65536);
  });
});

describe('aws-chunked (trailers, doc example)', () => {
  // "Signature calculations for trailing headers (chunked uploads)", the same 66560 bytes with a
  // x-amz-checksum-crc32c trailer. The chunk signatures are the doc's. Its printed trailer
  // signature (63bddb24…) is the HMAC of a string to sign that starts AWS4-HMAC-SHA256-PAYLOAD,
  // contradicting the doc's own text ("AWS4-HMAC-SHA256-TRAILER"), which every implementation
  // follows (aws-sdk-go-v2, aws-c-auth, MinIO). We follow the text: d81f82fc… below.
  const DOC_PRINTED_TRAILER_SIG = '63bddb248ad2590c92712055f51b8e78ab024eead08276b24f010b0efd74843f';
  const TRAILER_SIG = 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435';
  const seed = docContext('106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e');
  const body = () =>
    Buffer.concat([
      Buffer.from(
        '10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n',
      ),
      DATA.subarray(0, 65536),
      Buffer.from(
        '\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n',
      ),
      DATA.subarray(65536),
      Buffer.from(
        '\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n' +
          'x-amz-checksum-crc32c:sOO8/Q==\r\n' +
          `x-amz-trailer-signature:${TRAILER_SIG}\r\n\r\n`,
      ),
    ]);

  it('verifies the doc trailer example and returns the trailer', () => {
    const { data, trailers } = decodeAll(signedMode(seed, true), [body()]);
    assert.ok(data.equals(DATA));
    assert.deepEqual(trailers, { 'x-amz-checksum-crc32c': 'sOO8/Q==' });
  });

  it('encodes the doc trailer body byte for byte', () => {
    assert.ok(
      encodeSignedChunks(DATA, seed, { trailers: { 'x-amz-checksum-crc32c': 'sOO8/Q==' } }).equals(body()),
    );
  });

  it("refuses the doc's printed trailer signature (AWS4-HMAC-SHA256-PAYLOAD label): SignatureDoesNotMatch", () => {
    const b = Buffer.from(body().toString('latin1').replace(TRAILER_SIG, DOC_PRINTED_TRAILER_SIG), 'latin1');
    assert.equal(decodeError(signedMode(seed, true), b).code, 'SignatureDoesNotMatch');
  });

  it('refuses a changed trailer value (sOO8/Q== → sOO8/R==): SignatureDoesNotMatch', () => {
    const b = Buffer.from(body().toString('latin1').replace('sOO8/Q==', 'sOO8/R=='), 'latin1');
    assert.equal(decodeError(signedMode(seed, true), b).code, 'SignatureDoesNotMatch');
  });

  it('refuses signed trailers without x-amz-trailer-signature: InvalidRequest', () => {
    const b = Buffer.from(
      body()
        .toString('latin1')
        .replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''),
      'latin1',
    );
    assert.equal(decodeError(signedMode(seed, true), b).code, 'InvalidRequest');
  });
});

describe('ChunkedDecoder framing', () => {
  // 7-byte chunks exercise the parser; the 8 KiB rule has its own tests below.
  const tiny: ChunkedDecoderOptions = { minChunkSize: 1 };
  const small = Buffer.from('hello, chunked world! 0123456789');
  const ctx = docContext();
  const trailers = { 'x-amz-checksum-crc32': 'AAAAAA==' };
  const variants: [string, PayloadMode, Buffer, Record<string, string>][] = [
    ['signed', signedMode(ctx), encodeSignedChunks(small, ctx, { chunkSize: 7 }), {}],
    [
      'signed-trailer',
      signedMode(ctx, true),
      encodeSignedChunks(small, ctx, { chunkSize: 7, trailers }),
      trailers,
    ],
    ['unsigned-trailer', UNSIGNED, encodeUnsignedChunks(small, { chunkSize: 7, trailers }), trailers],
    ['unsigned, bare 0\\r\\n end', UNSIGNED, encodeUnsignedChunks(small, { chunkSize: 7 }), {}],
  ];

  for (const [name, mode, body, expectedTrailers] of variants) {
    it(`${name}: decodes pushed byte by byte`, () => {
      const pieces = [...body].map((b) => Buffer.from([b]));
      const r = decodeAll(mode, pieces, tiny);
      assert.ok(r.data.equals(small));
      assert.deepEqual(r.trailers, expectedTrailers);
    });

    it(`${name}: decodes split in two at every one of ${body.length + 1} positions`, () => {
      for (let at = 0; at <= body.length; at++) {
        const r = decodeAll(mode, [body.subarray(0, at), body.subarray(at)], tiny);
        assert.ok(r.data.equals(small), `split at ${at}`);
        assert.deepEqual(r.trailers, expectedTrailers);
      }
    });

    it(`${name}: refuses the body truncated at every position with IncompleteBody`, () => {
      // An unsigned body may end right after "0\r\n" (no trailers: the SDK's framing without a
      // checksum), so that one prefix is complete; the caller checks declared x-amz-trailer.
      const bareEnd = body.indexOf('\r\n0\r\n') + 5;
      for (let at = 0; at < body.length; at++) {
        if (mode.kind === 'streaming-unsigned-trailer' && at === bareEnd) continue;
        const e = s3ErrorOf(() => decodeAll(mode, [body.subarray(0, at)], tiny));
        assert.equal(e.code, 'IncompleteBody', `truncated at ${at}`);
      }
    });

    it(`${name}: refuses a trailing "x" after the end: InvalidRequest`, () => {
      if (name.includes('bare')) return; // "0\r\nx" reads as a trailer line there; covered below
      assert.equal(decodeError(mode, Buffer.concat([body, Buffer.from('x')]), tiny).code, 'InvalidRequest');
    });
  }

  it('unsigned: returns zero-copy slices of the pushed buffer', () => {
    const body = encodeUnsignedChunks(small, { chunkSize: 64 });
    const d = new ChunkedDecoder({ kind: 'streaming-unsigned-trailer' });
    const out = d.push(body);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.buffer, body.buffer);
    assert.equal(d.decodedLength, small.length);
  });

  it('unsigned: a chunk of 20 MiB (the SDK sends one per stream piece) passes through as it arrives', () => {
    const data = Buffer.alloc(20 * 1024 * 1024, 0x61);
    const body = encodeUnsignedChunks(data, { chunkSize: data.length, trailers });
    const d = new ChunkedDecoder({ kind: 'streaming-unsigned-trailer' });
    // The first MiB is released before the chunk is complete: nothing is held back.
    const first = d.push(body.subarray(0, 1024 * 1024));
    assert.ok(first.reduce((n, b) => n + b.length, 0) > 1000 * 1024);
    d.push(body.subarray(1024 * 1024));
    assert.equal(d.decodedLength, data.length);
    assert.deepEqual(d.end(), trailers);
  });

  const bad: [string, PayloadMode, string, string][] = [
    ['size "zz"', UNSIGNED, 'zz\r\nab\r\n0\r\n\r\n', 'InvalidRequest'],
    ['no CRLF after data ("abX")', UNSIGNED, '2\r\nabX\r\n0\r\n\r\n', 'InvalidRequest'],
    ['bare LF line end', UNSIGNED, '2\nab\r\n0\r\n\r\n', 'InvalidRequest'],
    ['CR inside the size line', UNSIGNED, '2\r3\r\nab\r\n0\r\n\r\n', 'InvalidRequest'],
    ['trailer without colon', UNSIGNED, '0\r\nx-amz-checksum-crc32\r\n\r\n', 'InvalidRequest'],
    [
      'x-amz-trailer-signature in an unsigned body',
      UNSIGNED,
      '0\r\nx-amz-trailer-signature:ab\r\n\r\n',
      'InvalidRequest',
    ],
    [
      'signed chunk of 0x2000000 bytes (over 16 MiB, held until verified)',
      signedMode(ctx),
      `2000000;chunk-signature=${'a'.repeat(64)}\r\n`,
      'InvalidRequest',
    ],
    ['signed chunk without chunk-signature', signedMode(ctx), '2\r\nab\r\n', 'InvalidRequest'],
    [
      'signed chunk with a 63-digit signature',
      signedMode(ctx),
      `2;chunk-signature=${'a'.repeat(63)}\r\n`,
      'InvalidRequest',
    ],
    ['header line of 5000 bytes', UNSIGNED, `${'1'.repeat(5000)}`, 'InvalidRequest'],
  ];
  for (const [what, mode, text, code] of bad) {
    it(`refuses ${what}: ${code}`, () => {
      assert.equal(decodeError(mode, Buffer.from(text, 'latin1'), tiny).code, code);
    });
  }

  it('refuses two signed chunks swapped (same sizes): SignatureDoesNotMatch', () => {
    const data = Buffer.from('aaaaaaabbbbbbb');
    const body = encodeSignedChunks(data, ctx, { chunkSize: 7 }).toString('latin1');
    const [c1, c2, rest] = body.split(/(?<=\r\n)(?=[0-9a-f]+;)/);
    const swapped = Buffer.from(`${c2}${c1}${rest}`, 'latin1');
    assert.equal(decodeError(signedMode(ctx), swapped, tiny).code, 'SignatureDoesNotMatch');
  });

  it('signChunkedUpload produces a request our verifier and decoder accept end to end', () => {
    const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const body = Buffer.alloc(100_000, 7);
    const up = signChunkedUpload({
      method: 'PUT',
      endpoint: 'http://127.0.0.1:9000',
      path: '/b/k',
      region: 'us-east-1',
      credentials: creds,
      now: FIXED_NOW,
      body,
      chunkSize: 8192,
      trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
    });
    assert.equal(up.headers['content-length'], String(up.body.length));
    const r = verifyRequest(
      { method: 'PUT', rawPath: '/b/k', rawQuery: '', headers: up.headers },
      { lookupSecret: () => 'secret', now: FIXED_NOW, region: 'us-east-1' },
    );
    assert.ok(r.kind === 'sigv4-header' && r.payload.kind === 'streaming-signed' && r.payload.trailer);
    const out = decodeAll(r.payload, [up.body]);
    assert.ok(out.data.equals(body));
    assert.deepEqual(out.trailers, { 'x-amz-checksum-crc32': 'AAAAAA==' });
  });
});

describe('aws-chunked: only the last chunk with data may be under 8 KiB', () => {
  const ctx = docContext();
  const data = Buffer.alloc(3 * 8192, 0x61);

  it('8192-byte chunks and a short last one decode, signed and unsigned', () => {
    const tail = data.subarray(0, 2 * 8192 + 5);
    const short = data.subarray(0, 100);
    const cases = [
      [signedMode(ctx), encodeSignedChunks(tail, ctx, { chunkSize: 8192 }), tail],
      [UNSIGNED, encodeUnsignedChunks(tail, { chunkSize: 8192 }), tail],
      [UNSIGNED, encodeUnsignedChunks(short, { chunkSize: 8192 }), short],
    ] as const;
    for (const [mode, body, expected] of cases) assert.ok(decodeAll(mode, [body]).data.equals(expected));
  });

  it('a 4096-byte chunk followed by more data → InvalidChunkSizeError naming the next chunk and the short size', () => {
    for (const [mode, body] of [
      [signedMode(ctx), encodeSignedChunks(data, ctx, { chunkSize: 4096 })],
      [UNSIGNED, encodeUnsignedChunks(data, { chunkSize: 4096 })],
    ] as const) {
      const e = decodeError(mode, body);
      assert.equal(e.code, 'InvalidChunkSizeError');
      assert.equal(e.status, 400);
      assert.equal(e.message, 'Only the last chunk is allowed to have a size less than 8192 bytes');
      // As S3 reports it: noticed at chunk 2's header, about chunk 1's size.
      assert.deepEqual(e.details, { Chunk: '2', BadChunkSize: '4096' });
    }
  });

  it('a short chunk in the middle (8192, 100, 8192) is refused at the third', () => {
    const body = Buffer.concat([
      Buffer.from('2000\r\n'),
      data.subarray(0, 8192),
      Buffer.from('\r\n64\r\n'),
      data.subarray(0, 100),
      Buffer.from('\r\n2000\r\n'),
      data.subarray(0, 8192),
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const e = decodeError(UNSIGNED, body);
    assert.equal(e.code, 'InvalidChunkSizeError');
    assert.deepEqual(e.details, { Chunk: '3', BadChunkSize: '100' });
  });
});

describe('aws-chunked from the AWS SDK v3 encoder (STREAMING-UNSIGNED-PAYLOAD-TRAILER)', () => {
  const sdkBody = async (pieces: Buffer[], withChecksum: boolean): Promise<Buffer> => {
    const all = Buffer.concat(pieces);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(all));
    const stream = getAwsChunkedEncodingStream(Readable.from(pieces), {
      bodyLengthChecker: (b: Buffer) => b.length,
      ...(withChecksum
        ? {
            base64Encoder: (b: Uint8Array) => Buffer.from(b).toString('base64'),
            checksumAlgorithmFn: class {} as never,
            checksumLocationName: 'x-amz-checksum-crc32',
            streamHasher: async () => crc,
          }
        : {}),
    } as never) as Readable;
    const out: Buffer[] = [];
    for await (const c of stream) out.push(Buffer.from(c));
    return Buffer.concat(out);
  };
  // Each stream piece is one chunk; only the last may be under 8 KiB (see above).
  const pieces = [Buffer.alloc(70000, 1), Buffer.alloc(8192, 2), Buffer.from('tail')];

  it('decodes what the SDK sends with its x-amz-checksum-crc32 trailer, pushed in 1000-byte pieces', async () => {
    const body = await sdkBody(pieces, true);
    const split: Buffer[] = [];
    for (let i = 0; i < body.length; i += 1000) split.push(body.subarray(i, i + 1000));
    const r = decodeAll(UNSIGNED, split);
    const all = Buffer.concat(pieces);
    assert.ok(r.data.equals(all));
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(all));
    assert.deepEqual(r.trailers, { 'x-amz-checksum-crc32': crc.toString('base64') });
  });

  it('decodes the SDK body without a checksum (ends at a bare "0\\r\\n")', async () => {
    const body = await sdkBody(pieces, false);
    assert.ok(body.subarray(-5).equals(Buffer.from('\r\n0\r\n')));
    assert.ok(decodeAll(UNSIGNED, [body]).data.equals(Buffer.concat(pieces)));
  });
});
