import { createHmac } from 'node:crypto';
import { S3Error } from '@chute/errors';
import { isoSeconds } from './amz-date.ts';
import { canonicalHeaderValue, headerValue } from './canonical-headers.ts';
import type { QueryPair } from './canonical-query.ts';
import { safeEqual } from './crypto.ts';
import type { AuthResult, VerifyOptions, WireRequest } from './types.ts';
import {
  invalidAccessKey,
  missingDate,
  SIGV4_MAX_SKEW_MS,
  signatureMismatch,
  tooSkewed,
} from './verify-errors.ts';

/**
 * AWS Signature Version 2 for S3 ("Signing and authenticating REST requests"), kept for old
 * clients:
 *   Signature = Base64(HMAC-SHA1(secret, UTF-8(StringToSign)))
 *   StringToSign = HTTP-Verb \n Content-MD5 \n Content-Type \n Date \n
 *                  CanonicalizedAmzHeaders CanonicalizedResource
 */

/**
 * "The subresources that must be included when constructing the CanonicalizedResource Element
 * are acl, lifecycle, location, logging, notification, partNumber, policy, requestPayment,
 * uploadId, uploads, versionId, versioning, versions, and website", plus the response-* header
 * overrides and the later additions the SDKs sign (delete, cors, restore, tagging, …).
 */
const SUB_RESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'partNumber',
  'policy',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'retention',
  'select',
  'select-type',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

/**
 * CanonicalizedResource: "/bucket" when the Host named the bucket, then the path as sent
 * (still encoded: the doc's example signs `/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re`
 * verbatim), then the sub-resources "lexicographically sorted by subresource name ... If the
 * value ... is a response-* override ... the value should not be URL-encoded" — query values
 * are used decoded.
 */
export function canonicalizedResource(
  rawPath: string,
  query: readonly QueryPair[],
  virtualBucket?: string,
): string {
  let resource = virtualBucket === undefined ? rawPath || '/' : `/${virtualBucket}${rawPath || '/'}`;
  const subs = query.filter(([name]) => SUB_RESOURCES.has(name));
  if (subs.length > 0) {
    subs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    resource += `?${subs.map(([n, v]) => (v === '' ? n : `${n}=${v}`)).join('&')}`;
  }
  return resource;
}

/**
 * CanonicalizedAmzHeaders: x-amz-* names lowercased and sorted, repeats "combined into one ...
 * by concatenating the values into a comma-separated list" (no spaces), folding whitespace
 * unfolded, whitespace around the colon trimmed; each line ends in '\n'.
 */
export function canonicalizedAmzHeaders(headers: WireRequest['headers']): string {
  const names = Object.keys(headers)
    .filter((n) => headers[n] !== undefined && n.toLowerCase().startsWith('x-amz-'))
    .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  let out = '';
  for (const n of names)
    out += `${n.toLowerCase()}:${canonicalHeaderValue(headerValue(headers, n)!.trim())}\n`;
  return out;
}

/** StringToSign for header auth, or for query auth when `expires` (epoch seconds) is given. */
export function sigV2StringToSign(req: WireRequest, query: readonly QueryPair[], expires?: string): string {
  const h = req.headers;
  // "If you include the x-amz-date header, you must still include a newline character in the
  // canonical string at the point where the Date value would normally be inserted."
  const date = expires ?? (h['x-amz-date'] !== undefined ? '' : (headerValue(h, 'date') ?? ''));
  return (
    `${req.method}\n${headerValue(h, 'content-md5') ?? ''}\n${headerValue(h, 'content-type') ?? ''}\n${date}\n` +
    canonicalizedAmzHeaders(h) +
    canonicalizedResource(req.rawPath, query, req.virtualBucket)
  );
}

export function sigV2Signature(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

function coveredHeaders(req: WireRequest, withDate: boolean): string[] {
  const names = ['content-md5', 'content-type'];
  if (withDate && req.headers['x-amz-date'] === undefined) names.push('date');
  for (const n of Object.keys(req.headers))
    if (n.toLowerCase().startsWith('x-amz-')) names.push(n.toLowerCase());
  return names.filter((n) => req.headers[n] !== undefined).sort();
}

/** `Authorization: AWS AWSAccessKeyId:Signature` */
export function verifyV2Header(
  req: WireRequest,
  authorization: string,
  query: readonly QueryPair[],
  opts: VerifyOptions,
): AuthResult {
  const value = authorization.slice(4);
  const colon = value.lastIndexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new S3Error(
      'InvalidArgument',
      'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature',
      {
        ArgumentName: 'Authorization',
        ArgumentValue: authorization,
      },
    );
  }
  const accessKeyId = value.slice(0, colon);
  const provided = value.slice(colon + 1);
  const secret = opts.lookupSecret(accessKeyId);
  if (secret === undefined) throw invalidAccessKey(accessKeyId);

  // "A valid time stamp (using either the HTTP Date header or an x-amz-date alternative) is
  // mandatory ... the request time stamp ... must be within 15 minutes of the Amazon S3 system time".
  const sent = headerValue(req.headers, 'x-amz-date') ?? headerValue(req.headers, 'date');
  const time = sent === undefined ? Number.NaN : Date.parse(sent);
  if (Number.isNaN(time)) throw missingDate();
  const maxSkew = opts.maxSkewMs ?? SIGV4_MAX_SKEW_MS;
  if (Math.abs(opts.now - time) > maxSkew) throw tooSkewed(sent!, opts.now, maxSkew);

  const toSign = sigV2StringToSign(req, query);
  if (!safeEqual(sigV2Signature(secret, toSign), provided)) {
    throw signatureMismatch(accessKeyId, toSign, provided);
  }
  return {
    kind: 'sigv2-header',
    accessKeyId,
    signedHeaders: coveredHeaders(req, true),
    payload: { kind: 'unsigned' },
  };
}

/** `?AWSAccessKeyId=…&Expires=<epoch seconds>&Signature=<base64>` ("Query string request authentication alternative") */
export function verifyV2Query(
  req: WireRequest,
  query: readonly QueryPair[],
  opts: VerifyOptions,
): AuthResult {
  const get = (name: string) => query.find(([n]) => n === name)?.[1];
  const accessKeyId = get('AWSAccessKeyId');
  const provided = get('Signature');
  const expires = get('Expires');
  if (accessKeyId === undefined || provided === undefined || expires === undefined) {
    throw new S3Error(
      'AccessDenied',
      'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    );
  }
  if (!/^\d+$/.test(expires)) {
    throw new S3Error('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`);
  }
  const secret = opts.lookupSecret(accessKeyId);
  if (secret === undefined) throw invalidAccessKey(accessKeyId);
  const expiresAt = Number(expires) * 1000;
  if (opts.now > expiresAt) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      Expires: isoSeconds(expiresAt),
      ServerTime: isoSeconds(opts.now),
    });
  }
  const toSign = sigV2StringToSign(req, query, expires);
  if (!safeEqual(sigV2Signature(secret, toSign), provided)) {
    throw signatureMismatch(accessKeyId, toSign, provided);
  }
  return {
    kind: 'sigv2-query',
    accessKeyId,
    signedHeaders: coveredHeaders(req, false),
    payload: { kind: 'unsigned' },
  };
}
