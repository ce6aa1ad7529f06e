import { ChuteError } from '@chute/errors';

/**
 * 401 with the challenge RFC 6750 §3 asks for. Without credentials the challenge names no error
 * (§3.1: "SHOULD NOT include an error code"); with bad ones, `invalid_token`. The description is
 * generic on purpose: which check failed (signature, issuer) helps an attacker more than a user.
 */
export function unauthenticated(
  reason?: 'invalid_token' | 'invalid_request',
  description?: string,
): ChuteError {
  const challenge =
    reason === undefined
      ? 'Bearer realm="chute"'
      : `Bearer realm="chute", error="${reason}"${description ? `, error_description="${description}"` : ''}`;
  return new ChuteError('unauthenticated', {
    ...(description !== undefined && { message: `${description}.` }),
    headers: { 'www-authenticate': challenge },
  });
}
