import { cleanUp, controlFailed, judge, ok, payload, postFile, probeKey, probeStorage } from './probe.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const NAME = 'enforce-post-size';
const MAX = 16;

/**
 * A POST over `content-length-range` is refused: the policy allows 1..16 bytes, the file has 17
 * (one past the inclusive bound). First a 16-byte file under the same policy must be accepted.
 */
export async function checkPostSize(ctx: DoctorContext): Promise<CheckResult> {
  const s3 = probeStorage(ctx);
  const within = probeKey();
  const over = probeKey();
  const form = (key: string) =>
    s3.postForm({ key, conditions: [['content-length-range', 1, MAX]], fields: {}, expiresIn: 300 });
  try {
    const control = await postFile(ctx, form(within), payload(MAX));
    if (!ok(control))
      return controlFailed(NAME, `a ${MAX}-byte POST within content-length-range 1..${MAX}`, control);
    const answer = await postFile(ctx, form(over), payload(MAX + 1));
    const stored = await cleanUp(s3, [over]);
    return judge(NAME, {
      what: `a ${MAX + 1}-byte file under content-length-range 1..${MAX}`,
      hole: 'a POST grant limits no size here',
      answer,
      stored: stored.get(over),
    });
  } finally {
    await cleanUp(s3, [within, over]);
  }
}
