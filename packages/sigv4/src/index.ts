// Public surface of @chute/sigv4: pure SigV4/SigV2 signing and verification. No I/O.

export { isoSeconds, parseAmzDate, toAmzDate } from './amz-date.ts';
export { canonicalHeaders, canonicalHeaderValue } from './canonical-headers.ts';
export { canonicalQuery, parseQuery } from './canonical-query.ts';
export { canonicalRequest } from './canonical-request.ts';
export {
  ChunkedDecoder,
  type ChunkedDecoderOptions,
  type EncodeChunksOptions,
  encodeSignedChunks,
  encodeUnsignedChunks,
  type SignedChunkedUpload,
  signChunkedUpload,
} from './chunked.ts';
export type { MatchCondition, ObjectCondition, PostCondition, RangeCondition } from './post-condition.ts';
export {
  type PostPolicy,
  type PostPolicyInput,
  type PostSignatureResult,
  signPostPolicy,
  verifyPostSignature,
} from './post-policy.ts';
export { MAX_EXPIRES, presignUrl } from './presign.ts';
export { type SignedRequest, signHeaders, signRequest } from './sign-headers.ts';
export { deriveSigningKey, signingKey, signingKeyCache } from './signing-key.ts';
export { canonicalizedResource, sigV2Signature, sigV2StringToSign } from './sigv2.ts';
export { credentialScope, stringToSign } from './string-to-sign.ts';
export type * from './types.ts';
export { uriDecode, uriEncode, uriEncodePath } from './uri-encode.ts';
export { verifyRequest } from './verify.ts';
