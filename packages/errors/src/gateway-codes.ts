/**
 * The gateway's JSON error codes: each with its HTTP status and the message sent when the thrower
 * gives none. This table is the one place a gateway code maps to a status. docs/errors.md lists
 * the same rows; test/gateway-codes.test.ts fails when the two drift apart.
 */
export const GATEWAY_CODES = {
  invalid_request: { status: 400, message: 'The request is malformed or has invalid fields.' },
  too_small: { status: 400, message: 'The file is smaller than this route allows.' },
  unauthenticated: { status: 401, message: 'A valid bearer token or API key is required.' },
  forbidden: { status: 403, message: 'You are not allowed to do this.' },
  not_found: { status: 404, message: 'No such upload.' },
  route_not_found: { status: 404, message: 'No such route.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed on this resource.' },
  conflict: { status: 409, message: 'The upload is not in a state that allows this.' },
  grant_expired: { status: 410, message: 'The grant has expired; ask for a new one.' },
  too_large: { status: 413, message: 'The file is larger than this route allows.' },
  type_not_allowed: { status: 415, message: 'This route does not accept files of this type.' },
  upload_rejected: { status: 422, message: 'Verification refused the uploaded file.' },
  quota_exceeded: { status: 429, message: 'Quota exceeded; retry later.' },
  internal: { status: 500, message: 'Internal error.' },
  unavailable: { status: 503, message: 'A service the gateway depends on is unavailable; retry later.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type GatewayErrorCode = keyof typeof GATEWAY_CODES;

/**
 * Why a completed upload was rejected. Not errors: `complete` answers 200 with
 * `{state: 'rejected', reason}`, and the reason is stored with the upload and sent in webhooks.
 * A closed set so clients can switch on it; docs/errors.md lists them too.
 */
export const REJECTION_REASONS = {
  missing:
    'Nothing at the grant\u2019s key yet: complete answers 409 and the grant stays usable (never recorded).',
  too_large: 'The stored object is larger than the route allows.',
  too_small: 'The stored object is smaller than the route allows.',
  size_mismatch: 'The stored object\u2019s size differs from the declared size.',
  type_not_allowed: 'The file\u2019s real type (read from its bytes) is not allowed by the route.',
  type_mismatch: 'The file\u2019s real type (read from its bytes) differs from the declared type.',
  metadata_mismatch: 'The stored object\u2019s metadata does not name this upload and user.',
  checksum_mismatch: 'The stored object\u2019s SHA-256 differs from the declared checksum.',
  image_unreadable: 'The image\u2019s dimensions could not be read.',
  image_too_large: 'The image is wider or taller than the route allows.',
  review_rejected: 'A reviewer rejected the file.',
} as const satisfies Record<string, string>;

export type RejectionReason = keyof typeof REJECTION_REASONS;
