// Property tests of the request verifiers (packages/sigv4): SigV4 Authorization headers and
// presigned queries, SigV2 headers and queries, POST form signatures, and aws-chunked framing.
// Properties: only S3Errors come out of any wire input; a request signed here verifies, and no
// change to anything it signed is accepted; an aws-chunked body decodes to the same bytes however
// it is split, and no truncation, extension or byte change of a signed body is ever accepted
// with other bytes.
//
// Bad inputs tried: Authorization headers of every shape (missing/duplicated components, spaces,
// empty SignedHeaders, upper-case names, unknown algorithms, 'AWS ' with no colon), both auth
// mechanisms at once, repeated query parameters, malformed percent escapes (%zz, %C0%AE, %ED%A0%80),
// dates in every wrong format, X-Amz-Expires out of range and non-numeric, unsigned x-amz-* and
// host headers, repeated header values (headersDistinct arrays); chunk bodies of random bytes,
// bare CR/LF, over-long size lines, hex sizes past 2^53, chunks after the final one, trailers
// without a signature, truncated and extended bodies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isS3Error, type S3ErrorCode } from '@chute/errors';
import {
  ChunkedDecoder,
  encodeSignedChunks,
  encodeUnsignedChunks,
  parseQuery,
  presignUrl,
  signRequest,
  sigV2Signature,
  sigV2StringToSign,
  verifyPostSignature,
  verifyRequest,
  type WireRequest,
} from '@chute/sigv4';
import fc from 'fast-check';
import { check } from './runs.ts';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const REGION = 'us-east-1';
const CREDS = { accessKeyId: 'AKIDCHUTEFUZZ', secretAccessKey: 'chute-fuzz-secret-key' };
const OPTS = {
  lookupSecret: (id: string) => (id === CREDS.accessKeyId ? CREDS.secretAccessKey : undefined),
  now: NOW,
  region: REGION,
};
const ENDPOINT = 'http://127.0.0.1:9000';

/** The verifier's answer: its result, or the code of the S3Error it threw. Anything else fails. */
function verdict<T>(fn: () => T): { ok: T } | { code: S3ErrorCode } {
  try {
    return { ok: fn() };
  } catch (e) {
    if (!isS3Error(e)) throw e;
    // NotImplemented (501) is the one deliberate 5xx: SigV4a (ECDSA) streaming payloads.
    assert.ok(
      (e.status >= 400 && e.status < 500) || e.code === 'NotImplemented',
      `${e.code} answers ${e.status}`,
    );
    return { code: e.code };
  }
}

// --- wire-level generators (node hands over latin1 strings, lower-case header names) ----------

const latin1 = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
  maxLength: 24,
});
const HEX = '0123456789abcdef';
const hex64 = fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 });
const date8 = fc.constantFrom('20260102', '20260101', '2026010', '');
const amzDate = fc.constantFrom(
  '20260102T030405Z',
  '20260102T030405',
  '20260101T000000Z',
  '2026-01-02T03:04:05Z',
  'x',
);
const credential = fc
  .tuple(
    fc.constantFrom(CREDS.accessKeyId, 'AKIDOTHER', ''),
    date8,
    fc.constantFrom(REGION, 'eu-west-1', ''),
    fc.constantFrom('s3', 'iam', ''),
    fc.constantFrom('aws4_request', 'aws4', ''),
  )
  .map((parts) => parts.join('/'));
const signedHeadersList = fc.oneof(
  fc.constantFrom(
    'host;x-amz-content-sha256;x-amz-date',
    'host',
    '',
    'Host;x-amz-date',
    'host;;x',
    'host x',
    'host:1',
  ),
  fc
    .array(fc.constantFrom('host', 'x-amz-date', 'x-amz-content-sha256', 'content-type', 'x-amz-meta-a'), {
      maxLength: 5,
    })
    .map((a) => a.join(';')),
);
const v4Authorization = fc
  .tuple(
    fc.constantFrom('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256  ', 'AWS4-HMAC-SHA256'),
    fc.array(
      fc.oneof(
        credential.map((c) => `Credential=${c}`),
        signedHeadersList.map((s) => `SignedHeaders=${s}`),
        fc.oneof(hex64, latin1).map((s) => `Signature=${s}`),
        latin1,
      ),
      { maxLength: 5 },
    ),
    fc.constantFrom(', ', ',', ' ,'),
  )
  .map(([alg, parts, sep]) => alg + parts.join(sep));
const authorization = fc.oneof(
  v4Authorization,
  fc
    .tuple(
      fc.constantFrom('AWS ', 'AWS'),
      fc.constantFrom(CREDS.accessKeyId, '', 'x:y'),
      fc.constantFrom(':', ''),
      latin1,
    )
    .map((p) => p.join('')),
  latin1,
);
const contentSha = fc.oneof(
  hex64,
  fc.constantFrom(
    'UNSIGNED-PAYLOAD',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
    'unsigned-payload',
    '',
  ),
);
const headerValue = fc.oneof(latin1, fc.array(latin1, { minLength: 1, maxLength: 3 }));
const headers = fc.record(
  {
    authorization,
    'x-amz-date': amzDate,
    date: fc.constantFrom('Fri, 02 Jan 2026 03:04:05 GMT', 'yesterday', ''),
    'x-amz-content-sha256': contentSha,
    host: fc.constantFrom('127.0.0.1:9000', 'bucket.localhost'),
    'content-type': headerValue,
    'content-md5': headerValue,
    'x-amz-meta-a': headerValue,
    'x-amz-security-token': latin1,
  },
  { requiredKeys: [] },
);
const QUERY_NAMES = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Content-Sha256',
  'X-Amz-Security-Token',
  'AWSAccessKeyId',
  'Signature',
  'Expires',
  'uploadId',
  'acl',
  'partNumber',
  'response-content-type',
];
const queryValue = fc.oneof(
  latin1.map(encodeURIComponent),
  fc.constantFrom('AWS4-HMAC-SHA256', '1', '0', '-1', '604801', '1e3', '%zz', '%C0%AE', '%ED%A0%80', '+', ''),
  credential.map(encodeURIComponent),
  amzDate,
  hex64,
);
const rawQuery = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...QUERY_NAMES), latin1.map(encodeURIComponent)),
      queryValue,
      fc.boolean(),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => pairs.map(([n, v, bare]) => (bare && v === '' ? n : `${n}=${v}`)).join('&'));
const rawPath = fc
  .array(
    fc.oneof(
      latin1.map(encodeURIComponent),
      fc.constantFrom(
        '..',
        '.',
        '%2e%2e',
        '%2F',
        '%00',
        '%C0%AE',
        '%E0%80%AE',
        '%ED%A0%80',
        '%zz',
        '%',
        '~!*',
        '',
      ),
    ),
    { maxLength: 4 },
  )
  .map((segs) => `/${segs.join('/')}`);
const wire: fc.Arbitrary<WireRequest> = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'get'),
  rawPath,
  rawQuery,
  headers,
});

describe('fuzz: request verification answers every wire input', () => {
  // Found by the property below (a 501, first taken for a failure): kept as a fixed case.
  test('an ECDSA streaming payload is NotImplemented, whatever the signature', () => {
    const out = verdict(() =>
      verifyRequest(
        {
          method: 'PUT',
          rawPath: '/b/k',
          rawQuery: '',
          headers: {
            authorization: `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/20260102/${REGION}/s3/aws4_request, SignedHeaders=host, Signature=x`,
            'x-amz-date': '20260102T030405Z',
            'x-amz-content-sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
          },
        },
        OPTS,
      ),
    );
    assert.deepEqual(out, { code: 'NotImplemented' });
  });

  test('any request: an AuthResult or a 4xx S3Error', (t) => {
    const ran = check(
      fc.property(wire, (req) => {
        verdict(() => verifyRequest(req, OPTS));
      }),
      { scale: 20 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  test('any POST form: a signature result or a 4xx S3Error', (t) => {
    const names = [
      'Policy',
      'policy',
      'X-Amz-Algorithm',
      'x-amz-algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Signature',
      'AWSAccessKeyId',
      'Signature',
      'signature',
      'key',
    ];
    const form = fc.dictionary(
      fc.constantFrom(...names),
      fc.oneof(latin1, credential, amzDate, hex64, fc.constant('AWS4-HMAC-SHA256')),
      { maxKeys: 8 },
    );
    const ran = check(
      fc.property(form, (f) => {
        verdict(() => verifyPostSignature(f, OPTS));
      }),
      { scale: 20 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });
});

// --- forgeries: a request signed here, then changed -------------------------------------------

const keySegment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/),
  fc.constantFrom('a b', 'x+y', 'ünï', '日本', '😀', "q'(!)*", 'per%cent', '..', 'k=v'),
);
const objectPath = fc
  .tuple(fc.constantFrom('bucket', 'uploads'), fc.array(keySegment, { minLength: 1, maxLength: 3 }))
  .map(([b, segs]) => `/${b}/${segs.join('/')}`);
const query = fc.dictionary(
  fc.constantFrom('uploadId', 'partNumber', 'acl', 'prefix', 'response-content-type'),
  fc.string({ maxLength: 6 }),
  { maxKeys: 2 },
);
const signedExtra = fc.dictionary(
  fc.constantFrom(
    'content-type',
    'content-length',
    'x-amz-meta-user-id',
    'x-amz-meta-upload-id',
    'content-md5',
    'x-amz-checksum-sha256',
  ),
  fc.stringMatching(/^[!-~]{1,10}$/),
  { maxKeys: 3 },
);

/** The raw path and query a client would send for a decoded path and query (independent encoder). */
function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}
function encodeQuery(q: Record<string, string>): string {
  return new URLSearchParams(q).toString().replace(/\+/g, '%20');
}

interface Signed {
  wire: WireRequest;
  kind: 'header' | 'query' | 'v2-header' | 'v2-query';
  signedHeaders: string[];
}

const signedRequest: fc.Arbitrary<Signed> = fc
  .record({
    kind: fc.constantFrom('header', 'query', 'v2-header', 'v2-query'),
    method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE'),
    path: objectPath,
    query,
    extra: signedExtra,
    payload: fc.oneof(hex64, fc.constant('UNSIGNED-PAYLOAD')),
  })
  .map(({ kind, method, path, query, extra, payload }): Signed => {
    const host = '127.0.0.1:9000';
    if (kind === 'header') {
      const s = signRequest({
        method,
        endpoint: ENDPOINT,
        path,
        query,
        headers: extra,
        credentials: CREDS,
        region: REGION,
        now: NOW,
        payloadHash: payload,
      });
      return {
        kind,
        wire: { method, rawPath: encodePath(path), rawQuery: encodeQuery(query), headers: s.headers },
        signedHeaders: Object.keys(s.headers).filter((h) => h !== 'authorization'),
      };
    }
    if (kind === 'query') {
      const url = presignUrl({
        method,
        endpoint: ENDPOINT,
        path,
        query,
        headers: extra,
        credentials: CREDS,
        region: REGION,
        now: NOW,
        expiresIn: 900,
      });
      const rest = url.slice(ENDPOINT.length);
      const q = rest.indexOf('?');
      return {
        kind,
        wire: { method, rawPath: rest.slice(0, q), rawQuery: rest.slice(q + 1), headers: { host, ...extra } },
        signedHeaders: ['host', ...Object.keys(extra)],
      };
    }
    // SigV2 signs the method, Content-MD5, Content-Type, the date, x-amz-* and the resource.
    const wireReq: WireRequest = {
      method,
      rawPath: encodePath(path),
      rawQuery: encodeQuery(query),
      headers: { host, ...extra },
    };
    if (kind === 'v2-header') {
      wireReq.headers.date = new Date(NOW).toUTCString();
      const sig = sigV2Signature(
        CREDS.secretAccessKey,
        sigV2StringToSign(wireReq, parseQuery(wireReq.rawQuery)),
      );
      wireReq.headers.authorization = `AWS ${CREDS.accessKeyId}:${sig}`;
      return {
        kind,
        wire: wireReq,
        signedHeaders: [
          'date',
          ...Object.keys(extra).filter(
            (h) => h === 'content-type' || h === 'content-md5' || h.startsWith('x-amz-'),
          ),
        ],
      };
    }
    const expires = String(Math.floor(NOW / 1000) + 600);
    const sig = sigV2Signature(
      CREDS.secretAccessKey,
      sigV2StringToSign(wireReq, parseQuery(wireReq.rawQuery), expires),
    );
    const auth = encodeQuery({ AWSAccessKeyId: CREDS.accessKeyId, Expires: expires, Signature: sig });
    wireReq.rawQuery = wireReq.rawQuery === '' ? auth : `${wireReq.rawQuery}&${auth}`;
    return {
      kind,
      wire: wireReq,
      signedHeaders: Object.keys(extra).filter(
        (h) => h === 'content-type' || h === 'content-md5' || h.startsWith('x-amz-'),
      ),
    };
  });

const clone = (w: WireRequest): WireRequest => ({ ...w, headers: { ...w.headers } });

/** Changes to a signed request that change what it means; none may verify. */
const forgery = fc.oneof(
  fc.constant((s: Signed) => {
    const w = clone(s.wire);
    w.method = w.method === 'GET' ? 'PUT' : 'GET';
    return w;
  }),
  fc.constantFrom('x', '%2F', '/', '%20').map((add) => (s: Signed) => {
    const w = clone(s.wire);
    w.rawPath = w.rawPath + add;
    return w;
  }),
  fc.constant((s: Signed) => {
    const w = clone(s.wire);
    const i = w.rawPath.indexOf('/', 1);
    w.rawPath = `/other${w.rawPath.slice(i)}`;
    return w;
  }),
  // A sub-resource: every SigV2 request signs it, every SigV4 request signs the whole query.
  fc.constantFrom('acl', 'uploads', 'versionId=1', 'uploadId=forged').map((add) => (s: Signed) => {
    const w = clone(s.wire);
    w.rawQuery = w.rawQuery === '' ? add : `${add}&${w.rawQuery}`;
    return w;
  }),
  fc.nat().map((i) => (s: Signed) => {
    const w = clone(s.wire);
    const name = s.signedHeaders[i % s.signedHeaders.length];
    if (name === undefined || name === 'host') return undefined;
    w.headers[name] = `${String(w.headers[name])}x`;
    return w;
  }),
  fc.constantFrom('x-amz-meta-user-id', 'x-amz-acl', 'x-amz-copy-source').map((name) => (s: Signed) => {
    const w = clone(s.wire);
    if (s.signedHeaders.includes(name)) return undefined;
    w.headers[name] = 'forged';
    return w;
  }),
  fc.nat().map((i) => (s: Signed) => {
    const w = clone(s.wire);
    const flip = (sig: string) => {
      const at = i % sig.length;
      const c = sig[at] === 'a' ? 'b' : 'a';
      return sig.slice(0, at) + c + sig.slice(at + 1);
    };
    if (s.kind === 'header') {
      const auth = String(w.headers.authorization);
      const m = /Signature=([0-9a-f]+)$/.exec(auth)!;
      w.headers.authorization = `${auth.slice(0, m.index)}Signature=${flip(m[1]!)}`;
    } else if (s.kind === 'v2-header') {
      const auth = String(w.headers.authorization);
      const colon = auth.lastIndexOf(':');
      w.headers.authorization = auth.slice(0, colon + 1) + flip(auth.slice(colon + 1));
    } else {
      const name = s.kind === 'query' ? 'X-Amz-Signature' : 'Signature';
      w.rawQuery = w.rawQuery.replace(
        new RegExp(`(^|&)${name}=([^&]*)`),
        (_m, pre: string, v: string) => `${pre}${name}=${encodeURIComponent(flip(decodeURIComponent(v)))}`,
      );
    }
    return w;
  }),
);

describe('fuzz: signed requests and their forgeries', () => {
  test('a request signed here verifies; no change to what it signed does', (t) => {
    let forged = 0;
    const ran = check(
      fc.property(signedRequest, forgery, (s, forge) => {
        const honest = verdict(() => verifyRequest(s.wire, OPTS));
        assert.ok('ok' in honest, `honest ${s.kind} request refused: ${JSON.stringify(honest)}`);
        const w = forge(s);
        if (w === undefined) return;
        forged++;
        const out = verdict(() => verifyRequest(w, OPTS));
        assert.ok('code' in out, `forged ${s.kind} request accepted: ${JSON.stringify(w)}`);
      }),
      { scale: 10 },
    );
    t.diagnostic(`${ran.runs} runs (${forged} forgeries), seed ${ran.seed}`);
  });

  test('a presigned URL is refused after it expires and before it is valid', (t) => {
    const ran = check(
      fc.property(
        signedRequest.filter((s) => s.kind === 'query'),
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.boolean(),
        (s, ms, late) => {
          // 900 s of validity; 15 minutes of skew allowed for a URL dated ahead of the clock.
          const now = late ? NOW + 900_000 + ms : NOW - 15 * 60_000 - ms;
          const out = verdict(() => verifyRequest(s.wire, { ...OPTS, now }));
          assert.ok('code' in out && out.code === 'AccessDenied', JSON.stringify(out));
        },
      ),
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });
});

// --- aws-chunked ------------------------------------------------------------------------------

const SEED_CTX = signRequest({
  method: 'PUT',
  endpoint: ENDPOINT,
  path: '/bucket/key',
  credentials: CREDS,
  region: REGION,
  now: NOW,
  payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
}).chunkContext;

type Mode = 'signed' | 'signed-trailer' | 'unsigned';
const modeOf = (m: Mode) =>
  m === 'unsigned'
    ? ({ kind: 'streaming-unsigned-trailer' } as const)
    : ({ kind: 'streaming-signed', trailer: m === 'signed-trailer', seed: SEED_CTX } as const);

/** Small chunks keep runs fast: the 8 KiB minimum is lowered (it has its own tests). */
const DECODER = { minChunkSize: 1, maxChunkSize: 4096 };

interface Body {
  mode: Mode;
  data: Buffer;
  trailers: Record<string, string> | undefined;
  encoded: Buffer;
}
const body: fc.Arbitrary<Body> = fc
  .record({
    mode: fc.constantFrom<Mode>('signed', 'signed-trailer', 'unsigned'),
    data: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
    chunkSize: fc.integer({ min: 1, max: 300 }),
    trailers: fc.dictionary(
      fc.constantFrom('x-amz-checksum-crc32', 'x-amz-checksum-sha256', 'x-a'),
      fc.stringMatching(/^[A-Za-z0-9+/=]{0,12}$/),
      { minKeys: 1, maxKeys: 2 },
    ),
  })
  .map(({ mode, data, chunkSize, trailers }) => {
    const t = mode === 'signed' ? undefined : trailers;
    const encoded =
      mode === 'unsigned'
        ? encodeUnsignedChunks(data, { chunkSize, trailers: t })
        : encodeSignedChunks(data, SEED_CTX, { chunkSize, trailers: t });
    return { mode, data, trailers: t, encoded };
  });

/** Splits a buffer at the given cut points (any order, duplicates allowed). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, buf.length]) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  return out;
}

function decode(
  mode: Mode,
  pieces: Buffer[],
): { ok: { data: Buffer; trailers: Record<string, string>; length: number } } | { code: S3ErrorCode } {
  return verdict(() => {
    const d = new ChunkedDecoder(modeOf(mode), DECODER);
    const out: Buffer[] = [];
    for (const p of pieces) out.push(...d.push(p));
    const trailers = d.end();
    const data = Buffer.concat(out);
    assert.equal(d.decodedLength, data.length, 'decodedLength counts what was released');
    return { data, trailers, length: d.decodedLength };
  });
}

describe('fuzz: aws-chunked framing', () => {
  test('a valid body decodes to its bytes and trailers however it is split', (t) => {
    const ran = check(
      fc.property(body, fc.array(fc.nat(), { maxLength: 12 }), (b, cuts) => {
        const out = decode(b.mode, split(b.encoded, cuts));
        assert.ok('ok' in out, JSON.stringify(out));
        assert.deepEqual(out.ok.data, b.data);
        assert.deepEqual(out.ok.trailers, { ...b.trailers });
      }),
      { scale: 5 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  test('a changed byte of a signed body: refused, or the very same bytes and trailers', (t) => {
    const signedBody = body.filter((b) => b.mode !== 'unsigned');
    const ran = check(
      fc.property(
        signedBody,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (b, i, xor, cuts) => {
          const changed = Buffer.from(b.encoded);
          const at = i % changed.length;
          changed[at] = changed[at]! ^ xor;
          const out = decode(b.mode, split(changed, cuts));
          if ('ok' in out) {
            assert.deepEqual(out.ok.data, b.data, 'accepted other bytes than were signed');
            assert.deepEqual(out.ok.trailers, { ...b.trailers }, 'accepted other trailers than were signed');
          }
        },
      ),
      { scale: 10 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  test('a truncated body is never complete; bytes after the end are refused', (t) => {
    const ran = check(
      fc.property(body, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (b, i, extra) => {
        const cut = i % b.encoded.length;
        const short = decode(b.mode, [b.encoded.subarray(0, cut)]);
        // The SDK may end an unsigned body with a bare "0\r\n" and no trailers: that one prefix is
        // complete (it is how such a body legally ends), every other one is not.
        const bare =
          b.mode === 'unsigned' &&
          b.encoded.subarray(0, cut).toString('latin1').endsWith('0\r\n') &&
          'ok' in short;
        if (!bare) assert.ok('code' in short, `a body cut at ${cut}/${b.encoded.length} was accepted`);
        const long = decode(b.mode, [b.encoded, Buffer.from(extra)]);
        // Appended bytes to an unsigned body ending in trailers may read as more trailers only if
        // they form one complete line; anything else is refused.
        if ('ok' in long)
          assert.ok(b.mode === 'unsigned' && b.trailers === undefined, 'accepted bytes after the end');
      }),
      { scale: 5 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  test('arbitrary framing: a result or a 4xx S3Error, for every mode', (t) => {
    const token = fc.oneof(
      fc.constantFrom(
        '\r\n',
        '\r',
        '\n',
        ';',
        ';chunk-signature=',
        '0',
        'a',
        'F',
        'ffffffffffffffffff',
        '10000000000000',
        'x-amz-trailer-signature:',
        'x-amz-checksum-crc32:AAAA',
        ':',
        ' ',
      ),
      hex64,
      fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a).toString('latin1')),
    );
    const raw = fc.array(token, { maxLength: 20 }).map((ts) => Buffer.from(ts.join(''), 'latin1'));
    const ran = check(
      fc.property(
        fc.constantFrom<Mode>('signed', 'signed-trailer', 'unsigned'),
        raw,
        fc.array(fc.nat(), { maxLength: 4 }),
        (mode, buf, cuts) => {
          decode(mode, split(buf, cuts));
        },
      ),
      { scale: 20 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });
});
