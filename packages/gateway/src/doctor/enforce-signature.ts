import { bucketRequest, networkReason } from './request.ts';
import { type CheckResult, type DoctorContext, fail, pass, warn } from './types.ts';

const NAME = 'enforce-signature';

/**
 * The store verifies signatures, not just key ids: a HEAD of the bucket signed with the right key
 * id and a wrong secret is refused. (s3rver accepts any SigV4 signature of a known key: "Signature
 * version 4 calculation is unimplemented"; then anyone who learns the key id, which every grant
 * URL shows, may write anything.) Runs after the credentials check passed, so the request is
 * otherwise good.
 */
export async function checkSignature(ctx: DoctorContext): Promise<CheckResult> {
  const forged = {
    ...ctx,
    storage: { ...ctx.storage, secretAccessKey: `${ctx.storage.secretAccessKey}-not` },
  };
  try {
    const answer = await bucketRequest(forged, { method: 'HEAD' });
    if (answer.status === 200)
      return fail(
        NAME,
        'accepted a request signed with a wrong secret (200): the store does not verify signatures, so anyone who sees the key id (every grant URL shows it) may write anything',
        'use a store that verifies SigV4 (chute s3, AWS S3, Ceph RGW, MinIO)',
      );
    if (answer.status === 403) return pass(NAME, 'refused a request signed with a wrong secret (403)');
    return warn(
      NAME,
      `a request signed with a wrong secret answered ${answer.status}, not S3's 403`,
      'look at the store’s log for this request',
    );
  } catch (e) {
    return fail(NAME, `storage does not answer: ${networkReason(e)}`, 'see the credentials check');
  }
}
