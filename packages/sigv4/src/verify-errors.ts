import { S3Error } from '@chute/errors';
import { isoSeconds } from './amz-date.ts';

/** Builders for the S3 errors several verifiers share, with the details S3 puts in them. */

const hexBytes = (s: string) =>
  Array.from(Buffer.from(s, 'utf8'), (b) => b.toString(16).padStart(2, '0')).join(' ');

/**
 * S3's SignatureDoesNotMatch carries what it signed so a client can diff it against its own:
 * AWSAccessKeyId, StringToSign, SignatureProvided, StringToSignBytes and, for SigV4,
 * CanonicalRequest and CanonicalRequestBytes. (It is safe to echo: it contains no secret.)
 */
export function signatureMismatch(
  accessKeyId: string,
  toSign: string,
  provided: string,
  canonicalRequest?: string,
): S3Error {
  const details: Record<string, string> = {
    AWSAccessKeyId: accessKeyId,
    StringToSign: toSign,
    SignatureProvided: provided,
    StringToSignBytes: hexBytes(toSign),
  };
  if (canonicalRequest !== undefined) {
    details['CanonicalRequest'] = canonicalRequest;
    details['CanonicalRequestBytes'] = hexBytes(canonicalRequest);
  }
  return new S3Error('SignatureDoesNotMatch', undefined, details);
}

export function invalidAccessKey(accessKeyId: string): S3Error {
  return new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
}

export function tooSkewed(requestTime: string, now: number, maxSkewMs: number): S3Error {
  return new S3Error('RequestTimeTooSkewed', undefined, {
    RequestTime: requestTime,
    ServerTime: isoSeconds(now),
    MaxAllowedSkewMilliseconds: String(maxSkewMs),
  });
}

export function missingDate(): S3Error {
  return new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}

/**
 * "There were headers present in the request which were not signed" — S3 refuses x-amz-*
 * headers the signature does not cover: otherwise anyone holding a presigned URL could add
 * x-amz-acl: public-read, x-amz-meta-*, x-amz-tagging … to a request the signer never approved.
 */
export function headersNotSigned(names: string[]): S3Error {
  return new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
    HeadersNotSigned: names.join(', '),
  });
}

export const SIGV4_MAX_SKEW_MS = 15 * 60 * 1000;
