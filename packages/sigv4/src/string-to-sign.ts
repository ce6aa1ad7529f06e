import { sha256Hex } from './crypto.ts';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Chunk signatures of aws-chunked bodies ("Defining the chunk body"). */
export const CHUNK_ALGORITHM = 'AWS4-HMAC-SHA256-PAYLOAD';
/** The trailer signature of *-TRAILER bodies ("Signature calculations for trailing headers"). */
export const TRAILER_ALGORITHM = 'AWS4-HMAC-SHA256-TRAILER';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** `YYYYMMDD/region/service/aws4_request` */
export function credentialScope(shortDate: string, region: string, service: string): string {
  return `${shortDate}/${region}/${service}/aws4_request`;
}

/**
 * "StringToSign = Algorithm + \n + RequestDateTime + \n + CredentialScope + \n +
 * HashedCanonicalRequest"
 */
export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/**
 * "AWS4-HMAC-SHA256-PAYLOAD + \n + timestamp + \n + scope + \n + previous-signature + \n +
 * Hex(SHA256Hash('')) + \n + Hex(SHA256Hash(current-chunk-data))"
 */
export function chunkStringToSign(
  amzDate: string,
  scope: string,
  previous: string,
  chunkHash: string,
): string {
  return `${CHUNK_ALGORITHM}\n${amzDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${chunkHash}`;
}

/** "AWS4-HMAC-SHA256-TRAILER + \n + timestamp + \n + scope + \n + previous-signature + \n + Hex(SHA256Hash(trailing-headers))" */
export function trailerStringToSign(
  amzDate: string,
  scope: string,
  previous: string,
  trailerHash: string,
): string {
  return `${TRAILER_ALGORITHM}\n${amzDate}\n${scope}\n${previous}\n${trailerHash}`;
}
