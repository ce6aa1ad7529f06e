import { S3Error } from '@chute/errors';
import { isoSeconds, parseAmzDate, toAmzDate } from './amz-date.ts';
import { canonicalHeaderValue, headerValue } from './canonical-headers.ts';
import { canonicalQuery, parseQuery, type QueryPair } from './canonical-query.ts';
import { canonicalRequest } from './canonical-request.ts';
import { type AuthPlace, parseCredential } from './credential.ts';
import { safeEqual } from './crypto.ts';
import { MAX_EXPIRES } from './presign.ts';
import { signingKey } from './signing-key.ts';
import { verifyV2Header, verifyV2Query } from './sigv2.ts';
import { ALGORITHM, stringToSign } from './string-to-sign.ts';
import type { AuthResult, PayloadMode, VerifyOptions, WireRequest } from './types.ts';
import { uriDecode, uriEncodePath } from './uri-encode.ts';
import {
  headersNotSigned,
  invalidAccessKey,
  missingDate,
  SIGV4_MAX_SKEW_MS,
  signatureMismatch,
  tooSkewed,
} from './verify-errors.ts';

/**
 * Server-side verification of every way S3 accepts a signed request. Order of checks follows
 * S3: the shape of the auth data, then the credential scope, then the key, then time, then the
 * signature, then the headers the signature must cover. The body is the caller's: this returns
 * how it must be checked (PayloadMode).
 */
export function verifyRequest(req: WireRequest, opts: VerifyOptions): AuthResult {
  const authorization = headerValue(req.headers, 'authorization');
  const query = req.rawQuery === '' ? [] : parseQuery(req.rawQuery);
  let v4Query = false;
  let v2Query = false;
  for (const [name] of query) {
    if (name === 'X-Amz-Algorithm' || name === 'X-Amz-Credential' || name === 'X-Amz-Signature')
      v4Query = true;
    else if (name === 'AWSAccessKeyId' || name === 'Signature') v2Query = true;
  }
  if ((authorization !== undefined && (v4Query || v2Query)) || (v4Query && v2Query)) {
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authorization ?? '' },
    );
  }
  if (authorization !== undefined) {
    if (authorization.startsWith(`${ALGORITHM} `)) return verifyV4Header(req, authorization, query, opts);
    if (authorization.startsWith('AWS ')) return verifyV2Header(req, authorization, query, opts);
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  if (v4Query) return verifyV4Query(req, query, opts);
  if (v2Query) return verifyV2Query(req, query, opts);
  return { kind: 'anonymous' };
}

function verifyV4Header(
  req: WireRequest,
  authorization: string,
  query: QueryPair[],
  opts: VerifyOptions,
): AuthResult {
  const service = opts.service ?? 's3';
  // "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…" (spaces after commas optional)
  const parts = new Map<string, string>();
  for (const component of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const c = component.trim();
    const eq = c.indexOf('=');
    if (eq > 0) parts.set(c.slice(0, eq), c.slice(eq + 1));
  }
  const credentialValue = parts.get('Credential');
  const signedHeadersValue = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (credentialValue === undefined || signedHeadersValue === undefined || signature === undefined) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  const credential = parseCredential(credentialValue, 'header', opts.region, service);
  const signedHeaders = parseSignedHeaders(signedHeadersValue, 'header');

  // The request time: x-amz-date, else Date (RFC 7231), as the spec allows either.
  const amzDateHeader = headerValue(req.headers, 'x-amz-date');
  let time: number;
  let amzDate: string;
  if (amzDateHeader !== undefined) {
    time = parseAmzDate(amzDateHeader);
    amzDate = amzDateHeader;
  } else {
    const date = headerValue(req.headers, 'date');
    time = date === undefined ? Number.NaN : Date.parse(date);
    amzDate = Number.isNaN(time) ? '' : toAmzDate(time).long;
  }
  if (Number.isNaN(time)) throw missingDate();
  if (credential.date !== amzDate.slice(0, 8)) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }

  const secret = opts.lookupSecret(credential.accessKeyId);
  if (secret === undefined) throw invalidAccessKey(credential.accessKeyId);

  // "the request time stamp ... must be within 15 minutes of the AWS system time" — a captured
  // request cannot be replayed later than that.
  const maxSkew = opts.maxSkewMs ?? SIGV4_MAX_SKEW_MS;
  if (Math.abs(opts.now - time) > maxSkew) {
    throw tooSkewed(amzDateHeader ?? headerValue(req.headers, 'date') ?? '', opts.now, maxSkew);
  }

  // "x-amz-content-sha256 ... is required for all AWS Signature Version 4 requests".
  const contentSha = headerValue(req.headers, 'x-amz-content-sha256');
  if (contentSha === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const payloadKind = payloadKindOf(contentSha);

  const key = signingKey(secret, credential.date, credential.region, credential.service);
  const request = canonicalRequest(
    req.method,
    canonicalUri(req.rawPath),
    canonicalQuery(query),
    headersBlock(req, signedHeaders),
    signedHeadersValue,
    contentSha,
  );
  const toSign = stringToSign(amzDate, credential.scope, request);
  const expected = key.key.hex(toSign);
  if (!safeEqual(expected, signature)) {
    throw signatureMismatch(credential.accessKeyId, toSign, signature, request);
  }
  checkAllSigned(req, signedHeaders, false);

  let payload: PayloadMode;
  if (payloadKind === 'streaming-signed' || payloadKind === 'streaming-signed-trailer') {
    payload = {
      kind: 'streaming-signed',
      trailer: payloadKind === 'streaming-signed-trailer',
      seed: { seedSignature: expected, amzDate, scope: credential.scope, signingKey: key.bytes },
    };
  } else if (payloadKind === 'sha256') {
    payload = { kind: 'sha256', hash: contentSha };
  } else {
    payload = { kind: payloadKind };
  }
  return { kind: 'sigv4-header', accessKeyId: credential.accessKeyId, signedHeaders, payload };
}

function verifyV4Query(req: WireRequest, query: QueryPair[], opts: VerifyOptions): AuthResult {
  const service = opts.service ?? 's3';
  const q = new Map<string, string>();
  for (const [name, value] of query) if (!q.has(name)) q.set(name, value);
  const algorithm = q.get('X-Amz-Algorithm');
  const credentialValue = q.get('X-Amz-Credential');
  const signature = q.get('X-Amz-Signature');
  const amzDate = q.get('X-Amz-Date');
  const signedHeadersValue = q.get('X-Amz-SignedHeaders');
  const expiresValue = q.get('X-Amz-Expires');
  if (
    algorithm === undefined ||
    credentialValue === undefined ||
    signature === undefined ||
    amzDate === undefined ||
    signedHeadersValue === undefined ||
    expiresValue === undefined
  ) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (algorithm !== ALGORITHM) {
    throw new S3Error('AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  }
  const time = parseAmzDate(amzDate);
  if (Number.isNaN(time)) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
    );
  }
  // "X-Amz-Expires ... minimum value you can set is 1, and the maximum is 604800 (seven days)".
  if (!/^-?\d+$/.test(expiresValue)) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  }
  const expires = Number(expiresValue);
  if (expires < 0)
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative');
  if (expires < 1) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be at least 1');
  if (expires > MAX_EXPIRES) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      `X-Amz-Expires must be less than a week (in seconds) that is; ${MAX_EXPIRES}`,
    );
  }
  const credential = parseCredential(credentialValue, 'query', opts.region, service);
  if (credential.date !== amzDate.slice(0, 8)) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      `Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  const signedHeaders = parseSignedHeaders(signedHeadersValue, 'query');

  const secret = opts.lookupSecret(credential.accessKeyId);
  if (secret === undefined) throw invalidAccessKey(credential.accessKeyId);

  // A presigned URL is valid from X-Amz-Date for X-Amz-Expires seconds, and no longer.
  const expiresAt = time + expires * 1000;
  if (opts.now > expiresAt) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expiresValue,
      Expires: isoSeconds(expiresAt),
      ServerTime: isoSeconds(opts.now),
    });
  }
  // A URL dated in the future would stay valid longer than its X-Amz-Expires says.
  if (time - opts.now > (opts.maxSkewMs ?? SIGV4_MAX_SKEW_MS)) {
    throw new S3Error('AccessDenied', 'Request is not valid yet');
  }

  // The payload of a presigned request is unsigned unless the URL itself names a hash.
  const contentSha = q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const payloadKind = payloadKindOf(contentSha);
  if (payloadKind !== 'unsigned' && payloadKind !== 'sha256') {
    throw new S3Error('InvalidRequest', 'Streaming payloads cannot be used with query-string authentication');
  }

  const key = signingKey(secret, credential.date, credential.region, credential.service);
  const request = canonicalRequest(
    req.method,
    canonicalUri(req.rawPath),
    canonicalQuery(query, 'X-Amz-Signature'),
    headersBlock(req, signedHeaders),
    signedHeadersValue,
    contentSha,
  );
  const toSign = stringToSign(amzDate, credential.scope, request);
  if (!safeEqual(key.key.hex(toSign), signature)) {
    throw signatureMismatch(credential.accessKeyId, toSign, signature, request);
  }
  checkAllSigned(req, signedHeaders, true);
  return {
    kind: 'sigv4-query',
    accessKeyId: credential.accessKeyId,
    signedHeaders,
    payload: payloadKind === 'sha256' ? { kind: 'sha256', hash: contentSha } : { kind: 'unsigned' },
  };
}

type PayloadKind =
  | 'unsigned'
  | 'sha256'
  | 'streaming-signed'
  | 'streaming-signed-trailer'
  | 'streaming-unsigned-trailer';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The values x-amz-content-sha256 may take ("Authenticating Requests: Using the Authorization Header"). */
function payloadKindOf(value: string): PayloadKind {
  switch (value) {
    case 'UNSIGNED-PAYLOAD':
      return 'unsigned';
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return 'streaming-signed';
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return 'streaming-signed-trailer';
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return 'streaming-unsigned-trailer';
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      throw new S3Error('NotImplemented', 'SigV4a (ECDSA) streaming payloads are not supported');
  }
  if (SHA256_HEX.test(value)) return 'sha256';
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

/** SignedHeaders: lowercase names joined by ';'. Kept in the order given: that order is signed. */
function parseSignedHeaders(value: string, place: AuthPlace): string[] {
  const names = value.split(';');
  for (const n of names) {
    if (n === '' || n !== n.toLowerCase() || /[\s:]/.test(n)) {
      throw place === 'header'
        ? new S3Error(
            'AuthorizationHeaderMalformed',
            `The authorization header is malformed; the SignedHeaders component "${value}" is malformed.`,
          )
        : new S3Error('AuthorizationQueryParametersError', `X-Amz-SignedHeaders "${value}" is malformed.`);
    }
  }
  return names;
}

/**
 * CanonicalURI: the path decoded once and encoded again the SigV4 way, so a client that left a
 * safe character unescaped ('!', '~') or used lowercase hex still verifies.
 */
function canonicalUri(rawPath: string): string {
  return rawPath === '' ? '/' : uriEncodePath(uriDecode(rawPath));
}

/** A signed header the request lacks is signed as empty, as S3 and the SDKs do. */
function headersBlock(req: WireRequest, names: string[]): string {
  let block = '';
  for (const name of names)
    block += `${name}:${canonicalHeaderValue(headerValue(req.headers, name) ?? '')}\n`;
  return block;
}

/**
 * AWS: "Any x-amz-* headers that you plan to include in your request must also be added" to
 * the signed headers, and host always. x-amz-content-sha256 is tolerated unsigned on presigned
 * URLs: the payload of those is UNSIGNED-PAYLOAD whatever the header says.
 */
function checkAllSigned(req: WireRequest, signed: string[], presigned: boolean): void {
  const missing: string[] = [];
  for (const name in req.headers) {
    if (req.headers[name] === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'host' || lower.startsWith('x-amz-')) {
      if (presigned && lower === 'x-amz-content-sha256') continue;
      if (!signed.includes(lower)) missing.push(lower);
    }
  }
  if (missing.length > 0) throw headersNotSigned(missing.sort());
}
