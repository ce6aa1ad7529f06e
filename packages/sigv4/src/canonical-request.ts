/**
 * CanonicalRequest, from "Create a canonical request":
 *   HTTPMethod\nCanonicalURI\nCanonicalQueryString\nCanonicalHeaders\nSignedHeaders\nHashedPayload
 * where CanonicalHeaders already ends in '\n' (hence the blank line before SignedHeaders).
 */
export function canonicalRequest(
  method: string,
  canonicalUri: string,
  canonicalQuery: string,
  headersBlock: string,
  signedHeaders: string,
  payloadHash: string,
): string {
  return `${method}\n${canonicalUri}\n${canonicalQuery}\n${headersBlock}\n${signedHeaders}\n${payloadHash}`;
}
