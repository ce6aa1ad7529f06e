import type { S3Storage } from '../storage/s3.ts';
import { payload, postFile, runProbe } from './probe.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const MAX = 16;

/**
 * A POST over `content-length-range` is refused: the policy allows 1..16 bytes, the file has 17
 * (one past the inclusive bound). First a 16-byte file under the same policy must be accepted.
 */
export function checkPostSize(ctx: DoctorContext): Promise<CheckResult> {
  const form = (s3: S3Storage, key: string) =>
    s3.postForm({ key, conditions: [['content-length-range', 1, MAX]], fields: {}, expiresIn: 300 });
  return runProbe(ctx, {
    name: 'enforce-post-size',
    control: {
      what: `a ${MAX}-byte POST within content-length-range 1..${MAX}`,
      send: (s3, key) => postFile(ctx, form(s3, key), payload(MAX)),
    },
    violation: {
      what: `a ${MAX + 1}-byte file under content-length-range 1..${MAX}`,
      hole: 'a POST grant limits no size here',
      send: (s3, key) => postFile(ctx, form(s3, key), payload(MAX + 1)),
    },
  });
}
