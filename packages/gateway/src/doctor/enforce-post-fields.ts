import { cleanUp, controlFailed, judge, ok, payload, postFile, probeKey, probeStorage } from './probe.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const NAME = 'enforce-unsigned-field';
const FIELD = 'x-amz-meta-doctor';

/**
 * A POST carrying a field no policy condition covers is refused ("Each form field that you
 * specify in a form (except x-amz-signature, file, policy, and field names that have an x-ignore-
 * prefix) must appear in the list of conditions"). Otherwise a browser could add metadata, an
 * ACL or a redirect to any grant. First the same form without the field must be accepted.
 */
export async function checkPostFields(ctx: DoctorContext): Promise<CheckResult> {
  const s3 = probeStorage(ctx);
  const within = probeKey();
  const extra = probeKey();
  const form = (key: string) =>
    s3.postForm({ key, conditions: [['content-length-range', 1, 16]], fields: {}, expiresIn: 300 });
  try {
    const control = await postFile(ctx, form(within), payload(16));
    if (!ok(control)) return controlFailed(NAME, 'a POST with only its signed fields', control);
    const answer = await postFile(ctx, form(extra), payload(16), { [FIELD]: 'unsigned' });
    const stored = await cleanUp(s3, [extra]);
    return judge(NAME, {
      what: `a form with a field no condition covers (${FIELD})`,
      hole: 'a browser can add any field (metadata, acl, redirect) to a POST grant here',
      answer,
      stored: stored.get(extra),
    });
  } finally {
    await cleanUp(s3, [within, extra]);
  }
}
