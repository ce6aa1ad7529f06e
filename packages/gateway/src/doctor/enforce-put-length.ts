import { cleanUp, controlFailed, judge, ok, payload, probeKey, probeStorage, putFile } from './probe.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const NAME = 'enforce-put-length';
const SIGNED = 16;

/**
 * A PUT whose body differs from the signed Content-Length is refused: the URL signs
 * `content-length: 16` (as a grant does), the browser sends 17 bytes, so its Content-Length
 * header differs from the signed one. First the 16 bytes it was signed for must be accepted.
 */
export async function checkPutLength(ctx: DoctorContext): Promise<CheckResult> {
  const s3 = probeStorage(ctx);
  const within = probeKey();
  const over = probeKey();
  const url = (key: string) =>
    s3.presignPut({
      key,
      headers: { 'content-type': 'text/plain', 'content-length': String(SIGNED) },
      expiresIn: 300,
    });
  const headers = { 'content-type': 'text/plain' };
  try {
    const control = await putFile(ctx, url(within), payload(SIGNED), headers);
    if (!ok(control)) return controlFailed(NAME, `a presigned PUT of the ${SIGNED} bytes it signs`, control);
    const answer = await putFile(ctx, url(over), payload(SIGNED + 1), headers);
    const stored = await cleanUp(s3, [over]);
    return judge(NAME, {
      what: `${SIGNED + 1} bytes on a PUT URL signed for content-length ${SIGNED}`,
      hole: 'a PUT grant limits no size here',
      answer,
      stored: stored.get(over),
    });
  } finally {
    await cleanUp(s3, [within, over]);
  }
}
