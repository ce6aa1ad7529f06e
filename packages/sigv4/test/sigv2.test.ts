import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuery } from '../src/canonical-query.ts';
import { canonicalizedResource, sigV2Signature, sigV2StringToSign } from '../src/sigv2.ts';
import type { VerifyOptions, WireRequest } from '../src/types.ts';
import { verifyRequest } from '../src/verify.ts';
import { s3ErrorOf } from './helpers.ts';

// "Signing and authenticating REST requests (AWS signature version 2)", Authentication examples.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AKID = 'AKIAIOSFODNN7EXAMPLE';
const at = (date: string): VerifyOptions => ({
  lookupSecret: (id) => (id === AKID ? SECRET : undefined),
  now: Date.parse(date),
  region: 'us-east-1',
});

interface Example {
  name: string;
  req: WireRequest;
  stringToSign: string;
  signature: string;
  now: string;
}

const EXAMPLES: Example[] = [
  {
    name: 'Object GET (virtual host johnsmith)',
    req: {
      method: 'GET',
      rawPath: '/photos/puppy.jpg',
      rawQuery: '',
      virtualBucket: 'johnsmith',
      headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:36:42 +0000' },
    },
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg',
    signature: 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=',
    now: 'Tue, 27 Mar 2007 19:36:42 +0000',
  },
  {
    name: 'Object PUT (Content-Type image/jpeg)',
    req: {
      method: 'PUT',
      rawPath: '/photos/puppy.jpg',
      rawQuery: '',
      virtualBucket: 'johnsmith',
      headers: {
        host: 'johnsmith.s3.amazonaws.com',
        'content-type': 'image/jpeg',
        'content-length': '94328',
        date: 'Tue, 27 Mar 2007 21:15:45 +0000',
      },
    },
    stringToSign: 'PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg',
    signature: 'MyyxeRY7whkBe+bq8fHCL/2kKUg=',
    now: 'Tue, 27 Mar 2007 21:15:45 +0000',
  },
  {
    name: 'List (query parameters are not sub-resources)',
    req: {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'prefix=photos&max-keys=50&marker=puppy',
      virtualBucket: 'johnsmith',
      headers: {
        host: 'johnsmith.s3.amazonaws.com',
        'user-agent': 'Mozilla/5.0',
        date: 'Tue, 27 Mar 2007 19:42:41 +0000',
      },
    },
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/',
    signature: 'htDYFYduRNen8P9ZfE/s9SuKy0U=',
    now: 'Tue, 27 Mar 2007 19:42:41 +0000',
  },
  {
    name: 'Fetch ACL (?acl sub-resource)',
    req: {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'acl',
      virtualBucket: 'johnsmith',
      headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:44:46 +0000' },
    },
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl',
    signature: 'c2WLPFtWHVgbEmeEG93a4cG37dM=',
    now: 'Tue, 27 Mar 2007 19:44:46 +0000',
  },
  {
    name: 'Delete (path style, x-amz-date blanks the Date line)',
    req: {
      method: 'DELETE',
      rawPath: '/johnsmith/photos/puppy.jpg',
      rawQuery: '',
      headers: {
        host: 's3.amazonaws.com',
        date: 'Tue, 27 Mar 2007 21:20:27 +0000',
        'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000',
      },
    },
    stringToSign: 'DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg',
    // The doc prints lx3byBScXR6KzyMaifNkardMwNk=, which is the HMAC of
    // "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg": the x-amz-date
    // value in the Date slot and no x-amz-date line, contradicting the doc's own rule ("you must
    // still include a newline ... where the Date value would normally be inserted") that the SDKs
    // (botocore HmacV1Auth) follow. We follow the rule; see the test below.
    signature: 'R4dJ53KECjStyBO5iTBJZ4XVOaI=',
    now: 'Tue, 27 Mar 2007 21:20:27 +0000',
  },
  {
    name: 'Upload (CNAME bucket, repeated x-amz-meta, Content-MD5)',
    req: {
      method: 'PUT',
      rawPath: '/db-backup.dat.gz',
      rawQuery: '',
      virtualBucket: 'static.johnsmith.net',
      headers: {
        host: 'static.johnsmith.net:8080',
        date: 'Tue, 27 Mar 2007 21:06:08 +0000',
        'x-amz-acl': 'public-read',
        'content-type': 'application/x-download',
        'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
        'x-amz-meta-reviewedby': ['joe@johnsmith.net', 'jane@johnsmith.net'],
        'x-amz-meta-filechecksum': '0x02661779',
        'x-amz-meta-checksumalgorithm': 'crc32',
        'content-disposition': 'attachment; filename=database.dat',
        'content-encoding': 'gzip',
        'content-length': '5913339',
      },
    },
    stringToSign:
      'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
      'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n' +
      'x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz',
    signature: 'ilyl83RwaSoYIEdixDQcA4OnAnc=',
    now: 'Tue, 27 Mar 2007 21:06:08 +0000',
  },
  {
    name: 'List all my buckets (GET /)',
    req: {
      method: 'GET',
      rawPath: '/',
      rawQuery: '',
      headers: { host: 's3.amazonaws.com', date: 'Wed, 28 Mar 2007 01:29:59 +0000' },
    },
    stringToSign: 'GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/',
    signature: 'qGdzdERIC03wnaRNKh6OqZehG9s=',
    now: 'Wed, 28 Mar 2007 01:29:59 +0000',
  },
  {
    name: 'Unicode keys (path signed as sent, lowercase hex kept)',
    req: {
      method: 'GET',
      rawPath: '/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
      rawQuery: '',
      headers: { host: 's3.amazonaws.com', date: 'Wed, 28 Mar 2007 01:49:49 +0000' },
    },
    stringToSign: 'GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
    signature: 'DNEZGsoieTZ92F3bUfSPQcbGmlM=',
    now: 'Wed, 28 Mar 2007 01:49:49 +0000',
  },
];

describe('SigV2', () => {
  for (const ex of EXAMPLES) {
    it(`builds the doc's StringToSign and signature: ${ex.name}`, () => {
      const toSign = sigV2StringToSign(ex.req, parseQuery(ex.req.rawQuery));
      assert.equal(toSign, ex.stringToSign);
      assert.equal(sigV2Signature(SECRET, toSign), ex.signature);
    });

    it(`verifies the doc's Authorization header: ${ex.name}`, () => {
      const req = { ...ex.req, headers: { ...ex.req.headers, authorization: `AWS ${AKID}:${ex.signature}` } };
      const r = verifyRequest(req, at(ex.now));
      assert.equal(r.kind, 'sigv2-header');
    });
  }

  it('verifies the doc query-string example (Expires=1175139620) and refuses it one second after', () => {
    const req: WireRequest = {
      method: 'GET',
      rawPath: '/photos/puppy.jpg',
      rawQuery: `AWSAccessKeyId=${AKID}&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620`,
      virtualBucket: 'johnsmith',
      headers: { host: 'johnsmith.s3.amazonaws.com' },
    };
    const before = { ...at('Tue, 27 Mar 2007 19:36:42 +0000') };
    assert.equal(verifyRequest(req, before).kind, 'sigv2-query');
    const e = s3ErrorOf(() => verifyRequest(req, { ...before, now: 1175139621000 }));
    assert.equal(e.code, 'AccessDenied');
    assert.equal(e.message, 'Request has expired');
  });

  const get = EXAMPLES[0]!;
  const signed = (
    over: Partial<WireRequest> = {},
    headers: Record<string, string | string[]> = {},
  ): WireRequest => ({
    ...get.req,
    ...over,
    headers: { ...get.req.headers, authorization: `AWS ${AKID}:${get.signature}`, ...headers },
  });
  const tampers: [string, WireRequest, string][] = [
    ['method GET→PUT', signed({ method: 'PUT' }), 'SignatureDoesNotMatch'],
    ['path puppy→puppz', signed({ rawPath: '/photos/puppz.jpg' }), 'SignatureDoesNotMatch'],
    ['bucket johnsmith→johnsmitx', signed({ virtualBucket: 'johnsmitx' }), 'SignatureDoesNotMatch'],
    ['sub-resource ?acl added', signed({ rawQuery: 'acl' }), 'SignatureDoesNotMatch'],
    ['content-type added', signed({}, { 'content-type': 'text/html' }), 'SignatureDoesNotMatch'],
    ['x-amz-acl added', signed({}, { 'x-amz-acl': 'public-read' }), 'SignatureDoesNotMatch'],
    [
      'signature last char',
      signed({}, { authorization: `AWS ${AKID}:bWq2s1WEIj+Ydj0vQ697zp+IXMV=` }),
      'SignatureDoesNotMatch',
    ],
    ['unknown key', signed({}, { authorization: `AWS AKIDX:${get.signature}` }), 'InvalidAccessKeyId'],
    ['no colon', signed({}, { authorization: `AWS ${AKID}` }), 'InvalidArgument'],
    ['Date 16 min late', signed({}, { date: 'Tue, 27 Mar 2007 19:52:43 +0000' }), 'RequestTimeTooSkewed'],
  ];
  for (const [what, req, code] of tampers) {
    it(`refuses the doc GET with ${what}: ${code}`, () => {
      assert.equal(s3ErrorOf(() => verifyRequest(req, at(get.now))).code, code);
    });
  }

  it("refuses the doc Delete example's printed signature (it contradicts the x-amz-date rule)", () => {
    const del = EXAMPLES.find((e) => e.name.startsWith('Delete'))!;
    const req = {
      ...del.req,
      headers: { ...del.req.headers, authorization: `AWS ${AKID}:lx3byBScXR6KzyMaifNkardMwNk=` },
    };
    assert.equal(s3ErrorOf(() => verifyRequest(req, at(del.now))).code, 'SignatureDoesNotMatch');
  });

  it('refuses a query-string request missing Expires with AccessDenied', () => {
    const req: WireRequest = {
      method: 'GET',
      rawPath: '/photos/puppy.jpg',
      rawQuery: `AWSAccessKeyId=${AKID}&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`,
      headers: {},
    };
    assert.equal(s3ErrorOf(() => verifyRequest(req, at(get.now))).code, 'AccessDenied');
  });

  it('canonicalises multipart and response-* sub-resources sorted, values decoded', () => {
    const q = parseQuery('uploadId=a%2Bb&partNumber=3&response-content-type=image%2Fpng&x-id=UploadPart');
    assert.equal(
      canonicalizedResource('/b/k', q),
      '/b/k?partNumber=3&response-content-type=image/png&uploadId=a+b',
    );
    assert.equal(canonicalizedResource('/k', parseQuery('uploads'), 'b'), '/b/k?uploads');
  });
});
