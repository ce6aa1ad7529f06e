import type { S3Storage } from '../storage/s3.ts';
import { payload, postFile, runProbe } from './probe.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const FIELD = 'x-amz-meta-doctor';

/**
 * A POST carrying a field no policy condition covers is refused ("Each form field that you
 * specify in a form (except x-amz-signature, file, policy, and field names that have an x-ignore-
 * prefix) must appear in the list of conditions"). Otherwise a browser could add metadata, an
 * ACL or a redirect to any grant. First the same form without the field must be accepted.
 */
export function checkPostFields(ctx: DoctorContext): Promise<CheckResult> {
  const form = (s3: S3Storage, key: string) =>
    s3.postForm({ key, conditions: [['content-length-range', 1, 16]], fields: {}, expiresIn: 300 });
  return runProbe(ctx, {
    name: 'enforce-unsigned-field',
    control: {
      what: 'a POST with only its signed fields',
      send: (s3, key) => postFile(ctx, form(s3, key), payload(16)),
    },
    violation: {
      what: `a form with a field no condition covers (${FIELD})`,
      hole: 'a browser can add any field (metadata, acl, redirect) to a POST grant here',
      send: (s3, key) => postFile(ctx, form(s3, key), payload(16), { [FIELD]: 'unsigned' }),
    },
  });
}
