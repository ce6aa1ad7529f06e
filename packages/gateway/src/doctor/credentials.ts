import { bucketRequest, networkReason } from './request.ts';
import { type CheckResult, type DoctorContext, fail, pass } from './types.ts';

const NAME = 'credentials';

/** Why storage refused the signed HEAD, in the words a newcomer can act on. */
const FIXES: Record<string, string> = {
  InvalidAccessKeyId: 'storage does not know storage.accessKeyId: copy it again from the store',
  SignatureDoesNotMatch: 'storage.secretAccessKey is wrong (the key id is known): copy it again',
  AuthorizationHeaderMalformed: 'storage.region does not match the region the store expects',
  RequestTimeTooSkewed: "this machine's clock is over 15 minutes off storage's: sync both with NTP",
  AccessDenied:
    'the key may not read this bucket: grant it s3:ListBucket, GetObject, PutObject, DeleteObject',
  NoSuchBucket: 'create the bucket (chute dev creates "chute"; elsewhere: your store\'s console or CLI)',
};

/**
 * Credentials work: a signed HEAD of the bucket answers 200. HEAD answers carry no body, so on a
 * refusal the same request is repeated as a GET (?location) to read S3's error code.
 */
export async function checkCredentials(ctx: DoctorContext): Promise<CheckResult> {
  const where = `${ctx.storage.endpoint} bucket "${ctx.storage.bucket}"`;
  try {
    const head = await bucketRequest(ctx, { method: 'HEAD' });
    if (head.status === 200) return pass(NAME, `HEAD of ${where} answered 200 with these credentials`);
    const get = await bucketRequest(ctx, { method: 'GET', query: { location: '' } });
    const code = get.code ?? head.code ?? `HTTP ${head.status}`;
    const fix =
      FIXES[code] ??
      (head.status === 404 ? FIXES['NoSuchBucket']! : 'check storage.endpoint, region and the key pair');
    const msg = get.message ? `: ${get.message}` : '';
    return fail(NAME, `HEAD of ${where} answered ${head.status} (${code}${msg})`, fix);
  } catch (e) {
    return fail(
      NAME,
      `storage does not answer at ${ctx.storage.endpoint}: ${networkReason(e)}`,
      'start the store (chute dev / chute s3) or correct storage.endpoint',
    );
  }
}
