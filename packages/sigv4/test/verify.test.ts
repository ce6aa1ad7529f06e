import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presignUrl } from '../src/presign.ts';
import { signHeaders } from '../src/sign-headers.ts';
import type { AuthResult, VerifyOptions, WireRequest } from '../src/types.ts';
import { verifyRequest } from '../src/verify.ts';
import { FIXED_NOW, prng, s3ErrorOf } from './helpers.ts';
import { type SdkCase, sdkHeaderCase, sdkQueryCase } from './sdk-requests.ts';

const optsFor = (c: SdkCase, extra: Partial<VerifyOptions> = {}): VerifyOptions => ({
  lookupSecret: (id) => (id === c.creds.accessKeyId ? c.creds.secretAccessKey : undefined),
  now: c.now,
  region: c.region,
  ...extra,
});

/** Replaces the last character of s with a different one. */
const flipLast = (s: string) => s.slice(0, -1) + (s.endsWith('z') ? 'y' : 'z');

const withHeader = (w: WireRequest, name: string, value: string): WireRequest => ({
  ...w,
  headers: { ...w.headers, [name]: value },
});

const AUTH_QUERY = /^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token)$/;

/** Every one-character change of a signed part of the request, with the S3 code it must get. */
function tamperings(c: SdkCase, mode: 'header' | 'query'): [string, WireRequest, string][] {
  const w = c.wire;
  const out: [string, WireRequest, string][] = [];
  out.push(['method', { ...w, method: flipLast(w.method) }, 'SignatureDoesNotMatch']);
  out.push(['path', { ...w, rawPath: flipLast(w.rawPath) }, 'SignatureDoesNotMatch']);
  const params = w.rawQuery === '' ? [] : w.rawQuery.split('&');
  const free = params.findIndex((p) => !AUTH_QUERY.test(p.split('=')[0]!));
  if (free !== -1) {
    const p = params.slice();
    p[free] = p[free]!.includes('=') && !p[free]!.endsWith('=') ? flipLast(p[free]!) : `${p[free]}z`;
    out.push([`query ${params[free]}`, { ...w, rawQuery: p.join('&') }, 'SignatureDoesNotMatch']);
  }
  const signedNames =
    mode === 'header'
      ? /SignedHeaders=([^,]+)/.exec(String(w.headers['authorization']))![1]!.split(';')
      : decodeURIComponent(/X-Amz-SignedHeaders=([^&]+)/.exec(w.rawQuery)![1]!).split(';');
  for (const name of signedNames) {
    if (name === 'x-amz-content-sha256' || name === 'x-amz-date') continue;
    out.push([
      `header ${name}`,
      withHeader(w, name, flipLast(String(w.headers[name]))),
      'SignatureDoesNotMatch',
    ]);
  }
  if (mode === 'header') {
    const auth = String(w.headers['authorization']);
    const d = String(w.headers['x-amz-date']);
    // One second later: still inside the skew window and the same day, so only the signature breaks.
    const later = d.endsWith('9Z') ? `${d.slice(0, -2)}8Z` : `${d.slice(0, -2)}${Number(d.at(-2)) + 1}Z`;
    out.push(['x-amz-date', withHeader(w, 'x-amz-date', later), 'SignatureDoesNotMatch']);
    out.push([
      'region',
      withHeader(w, 'authorization', auth.replace(`/${c.region}/`, '/xx-east-9/')),
      'AuthorizationHeaderMalformed',
    ]);
    out.push([
      'service',
      withHeader(w, 'authorization', auth.replace('/s3/', '/s4/')),
      'AuthorizationHeaderMalformed',
    ]);
    out.push(['signature', withHeader(w, 'authorization', flipLast(auth)), 'SignatureDoesNotMatch']);
  } else {
    const q = w.rawQuery;
    const date = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(q)![1]!;
    const later = date.endsWith('9Z')
      ? `${date.slice(0, -2)}8Z`
      : `${date.slice(0, -2)}${Number(date.at(-2)) + 1}Z`;
    out.push(['X-Amz-Date', { ...w, rawQuery: q.replace(date, later) }, 'SignatureDoesNotMatch']);
    out.push([
      'region',
      { ...w, rawQuery: q.replace(`%2F${c.region}%2F`, '%2Fxx-east-9%2F') },
      'AuthorizationQueryParametersError',
    ]);
    out.push([
      'service',
      { ...w, rawQuery: q.replace('%2Fs3%2F', '%2Fs4%2F') },
      'AuthorizationQueryParametersError',
    ]);
    out.push([
      'signature',
      {
        ...w,
        rawQuery: q.replace(
          /X-Amz-Signature=([0-9a-f]+)/,
          (_, s: string) => `X-Amz-Signature=${flipLast(s)}`,
        ),
      },
      'SignatureDoesNotMatch',
    ]);
  }
  return out;
}

function expectKind(result: AuthResult, kind: string) {
  assert.equal(result.kind, kind);
}

describe('verifyRequest', () => {
  it('accepts 300 SDK header-signed requests and refuses every one-character tampering', async () => {
    const rand = prng(11);
    for (let i = 0; i < 300; i++) {
      const c = await sdkHeaderCase(rand, i);
      const result = verifyRequest(c.wire, optsFor(c));
      expectKind(result, 'sigv4-header');
      if (result.kind === 'anonymous') continue;
      assert.equal(result.accessKeyId, c.creds.accessKeyId);
      const expected = {
        'UNSIGNED-PAYLOAD': 'unsigned',
        'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': 'streaming-signed',
        'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': 'streaming-signed',
        'STREAMING-UNSIGNED-PAYLOAD-TRAILER': 'streaming-unsigned-trailer',
      }[c.payloadHash];
      assert.equal(result.payload.kind, expected ?? 'sha256', c.label);
      for (const [what, wire, code] of tamperings(c, 'header')) {
        assert.equal(
          s3ErrorOf(() => verifyRequest(wire, optsFor(c))).code,
          code,
          `${c.label}: tampered ${what}`,
        );
      }
    }
  });

  it('accepts 300 SDK presigned requests (hoisted or not) and refuses every one-character tampering', async () => {
    const rand = prng(12);
    for (let i = 0; i < 300; i++) {
      const c = await sdkQueryCase(rand, i);
      const result = verifyRequest(c.wire, optsFor(c));
      expectKind(result, 'sigv4-query');
      for (const [what, wire, code] of tamperings(c, 'query')) {
        assert.equal(
          s3ErrorOf(() => verifyRequest(wire, optsFor(c))).code,
          code,
          `${c.label}: tampered ${what}`,
        );
      }
    }
  });

  const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
  const opts: VerifyOptions = {
    lookupSecret: (id) => (id === 'AKID' ? 'secret' : undefined),
    now: FIXED_NOW,
    region: 'us-east-1',
  };
  const wireOfUrl = (url: string, method = 'PUT', headers: Record<string, string> = {}): WireRequest => {
    const u = new URL(url);
    return {
      method,
      rawPath: u.pathname,
      rawQuery: u.search.slice(1),
      headers: { host: u.host, ...headers },
    };
  };
  const presigned = (extra: Partial<Parameters<typeof presignUrl>[0]> = {}) =>
    presignUrl({
      method: 'PUT',
      endpoint: 'http://127.0.0.1:9000',
      path: '/b/incoming/u1/x y',
      region: 'us-east-1',
      credentials: creds,
      expiresIn: 900,
      now: FIXED_NOW,
      headers: { 'content-length': '5', 'content-type': 'image/png', 'x-amz-meta-upload-id': 'u1' },
      ...extra,
    });
  const grantHeaders = { 'content-length': '5', 'content-type': 'image/png', 'x-amz-meta-upload-id': 'u1' };

  it('accepts our own presigned PUT when the client sends exactly the signed headers', () => {
    const r = verifyRequest(wireOfUrl(presigned(), 'PUT', grantHeaders), opts);
    assert.ok(r.kind === 'sigv4-query');
    assert.deepEqual(r.signedHeaders, ['content-length', 'content-type', 'host', 'x-amz-meta-upload-id']);
  });

  it('refuses a presigned PUT whose Content-Length differs from the signed one (6 for 5)', () => {
    const e = s3ErrorOf(() =>
      verifyRequest(wireOfUrl(presigned(), 'PUT', { ...grantHeaders, 'content-length': '6' }), opts),
    );
    assert.equal(e.code, 'SignatureDoesNotMatch');
    assert.match(e.details['CanonicalRequest']!, /content-length:6/);
    assert.match(e.details['StringToSign']!, /^AWS4-HMAC-SHA256\n/);
    assert.ok(e.details['StringToSignBytes']!.startsWith('41 57 53 34'));
  });

  it('refuses unsigned x-amz-acl and x-amz-meta-extra with AccessDenied HeadersNotSigned', () => {
    const e = s3ErrorOf(() =>
      verifyRequest(
        wireOfUrl(presigned(), 'PUT', {
          ...grantHeaders,
          'x-amz-acl': 'public-read',
          'x-amz-meta-extra': '1',
        }),
        opts,
      ),
    );
    assert.equal(e.code, 'AccessDenied');
    assert.equal(e.message, 'There were headers present in the request which were not signed');
    assert.equal(e.details['HeadersNotSigned'], 'x-amz-acl, x-amz-meta-extra');
  });

  it('tolerates an unsigned x-amz-content-sha256 on a presigned URL', () => {
    verifyRequest(
      wireOfUrl(presigned(), 'PUT', { ...grantHeaders, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }),
      opts,
    );
  });

  it('refuses header auth with an unsigned x-amz-meta-extra with AccessDenied HeadersNotSigned', () => {
    const h = signHeaders({
      method: 'GET',
      endpoint: 'http://h',
      path: '/b/k',
      region: 'us-east-1',
      credentials: creds,
      now: FIXED_NOW,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    const w: WireRequest = { method: 'GET', rawPath: '/b/k', rawQuery: '', headers: h };
    verifyRequest(w, opts);
    const e = s3ErrorOf(() => verifyRequest(withHeader(w, 'x-amz-meta-extra', '1'), opts));
    assert.equal(e.code, 'AccessDenied');
    assert.equal(e.details['HeadersNotSigned'], 'x-amz-meta-extra');
  });

  it('refuses a presigned URL one second after X-Amz-Date + X-Amz-Expires with AccessDenied "Request has expired"', () => {
    const url = wireOfUrl(presigned(), 'PUT', grantHeaders);
    verifyRequest(url, { ...opts, now: FIXED_NOW + 900_000 });
    const e = s3ErrorOf(() => verifyRequest(url, { ...opts, now: FIXED_NOW + 901_000 }));
    assert.equal(e.code, 'AccessDenied');
    assert.equal(e.message, 'Request has expired');
    assert.equal(e.details['X-Amz-Expires'], '900');
    assert.equal(e.details['Expires'], '2026-01-02T03:19:05Z');
  });

  for (const [expires, message] of [
    ['604801', 'X-Amz-Expires must be less than a week (in seconds) that is; 604800'],
    ['-5', 'X-Amz-Expires must be non-negative'],
    ['abc', 'X-Amz-Expires should be a number'],
    ['0', 'X-Amz-Expires must be at least 1'],
  ] as const) {
    it(`refuses X-Amz-Expires=${expires} with AuthorizationQueryParametersError`, () => {
      const w = wireOfUrl(presigned(), 'PUT', grantHeaders);
      w.rawQuery = w.rawQuery.replace('X-Amz-Expires=900', `X-Amz-Expires=${expires}`);
      const e = s3ErrorOf(() => verifyRequest(w, opts));
      assert.equal(e.code, 'AuthorizationQueryParametersError');
      assert.equal(e.message, message);
    });
  }

  for (const param of ['X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires', 'X-Amz-Credential']) {
    it(`refuses a presigned URL missing ${param} with AuthorizationQueryParametersError`, () => {
      const w = wireOfUrl(presigned(), 'PUT', grantHeaders);
      w.rawQuery = w.rawQuery
        .split('&')
        .filter((p) => !p.startsWith(`${param}=`))
        .join('&');
      assert.equal(s3ErrorOf(() => verifyRequest(w, opts)).code, 'AuthorizationQueryParametersError');
    });
  }

  it('says which region it expects for a credential scoped to eu-west-1', () => {
    const url = presigned({ region: 'eu-west-1' });
    const e = s3ErrorOf(() => verifyRequest(wireOfUrl(url, 'PUT', grantHeaders), opts));
    assert.equal(e.code, 'AuthorizationQueryParametersError');
    assert.equal(
      e.message,
      "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
    );
    assert.equal(e.details['Region'], 'us-east-1');
  });

  const headerSigned = (now = FIXED_NOW, extra: Record<string, string> = {}) =>
    signHeaders({
      method: 'PUT',
      endpoint: 'http://h',
      path: '/b/k',
      region: 'us-east-1',
      credentials: creds,
      now,
      headers: extra,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
  const wireOf = (headers: Record<string, string>): WireRequest => ({
    method: 'PUT',
    rawPath: '/b/k',
    rawQuery: '',
    headers,
  });

  it('says which region it expects for a header credential scoped to eu-west-1', () => {
    const e = s3ErrorOf(() => verifyRequest(wireOf(headerSigned()), { ...opts, region: 'eu-west-1' }));
    assert.equal(e.code, 'AuthorizationHeaderMalformed');
    assert.equal(
      e.message,
      "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
    );
  });

  it('refuses header auth 15 min + 1 s off in either direction with RequestTimeTooSkewed', () => {
    const h = headerSigned();
    verifyRequest(wireOf(h), { ...opts, now: FIXED_NOW + 900_000 });
    verifyRequest(wireOf(h), { ...opts, now: FIXED_NOW - 900_000 });
    for (const now of [FIXED_NOW + 901_000, FIXED_NOW - 901_000]) {
      const e = s3ErrorOf(() => verifyRequest(wireOf(h), { ...opts, now }));
      assert.equal(e.code, 'RequestTimeTooSkewed');
      assert.equal(e.details['MaxAllowedSkewMilliseconds'], '900000');
    }
  });

  it('refuses an unknown access key with InvalidAccessKeyId', () => {
    const e = s3ErrorOf(() =>
      verifyRequest(wireOf(headerSigned()), { ...opts, lookupSecret: () => undefined }),
    );
    assert.equal(e.code, 'InvalidAccessKeyId');
    assert.equal(e.details['AWSAccessKeyId'], 'AKID');
  });

  it('refuses header auth without x-amz-content-sha256 (InvalidRequest) or with "abc" (InvalidArgument)', () => {
    const h = headerSigned();
    const { 'x-amz-content-sha256': _, ...without } = h;
    assert.equal(s3ErrorOf(() => verifyRequest(wireOf(without), opts)).code, 'InvalidRequest');
    assert.equal(
      s3ErrorOf(() => verifyRequest(wireOf({ ...h, 'x-amz-content-sha256': 'abc' }), opts)).code,
      'InvalidArgument',
    );
  });

  it('refuses an Authorization header without Signature with AuthorizationHeaderMalformed', () => {
    const h = headerSigned();
    const auth = h['authorization']!.replace(/, Signature=.*/, '');
    assert.equal(
      s3ErrorOf(() => verifyRequest(wireOf({ ...h, authorization: auth }), opts)).code,
      'AuthorizationHeaderMalformed',
    );
  });

  it('refuses header auth with neither x-amz-date nor Date with AccessDenied', () => {
    const { 'x-amz-date': _, ...h } = headerSigned();
    const e = s3ErrorOf(() => verifyRequest(wireOf(h), opts));
    assert.equal(e.code, 'AccessDenied');
  });

  it('refuses "Bearer x" with InvalidArgument and both header and query auth with InvalidArgument', () => {
    assert.equal(
      s3ErrorOf(() => verifyRequest(wireOf({ authorization: 'Bearer x' }), opts)).code,
      'InvalidArgument',
    );
    const w = wireOfUrl(presigned(), 'PUT', {
      ...grantHeaders,
      authorization: headerSigned()['authorization']!,
    });
    assert.equal(s3ErrorOf(() => verifyRequest(w, opts)).code, 'InvalidArgument');
  });

  it('returns anonymous for a request without any signature', () => {
    assert.deepEqual(
      verifyRequest({ method: 'GET', rawPath: '/b/k', rawQuery: 'x=1', headers: { host: 'h' } }, opts),
      {
        kind: 'anonymous',
      },
    );
  });

  it('returns the seed context for STREAMING-AWS4-HMAC-SHA256-PAYLOAD', () => {
    const h = signHeaders({
      method: 'PUT',
      endpoint: 'http://h',
      path: '/b/k',
      region: 'us-east-1',
      credentials: creds,
      now: FIXED_NOW,
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    const r = verifyRequest(wireOf(h), opts);
    assert.ok(r.kind === 'sigv4-header' && r.payload.kind === 'streaming-signed');
    assert.equal(r.payload.trailer, false);
    assert.equal(r.payload.seed.seedSignature, /Signature=([0-9a-f]{64})/.exec(h['authorization']!)![1]);
    assert.equal(r.payload.seed.scope, '20260102/us-east-1/s3/aws4_request');
  });

  it('verifies a path sent with lowercase hex and unescaped "~!" the same as the canonical one', () => {
    const url = presignUrl({
      method: 'GET',
      endpoint: 'http://h',
      path: '/b/é~!',
      region: 'us-east-1',
      credentials: creds,
      expiresIn: 60,
      now: FIXED_NOW,
    });
    const w = wireOfUrl(url, 'GET');
    assert.equal(w.rawPath, '/b/%C3%A9~%21');
    verifyRequest({ ...w, rawPath: '/b/%c3%a9~!' }, opts);
  });
});
