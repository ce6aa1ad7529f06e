import type { S3Storage } from '../storage/s3.ts';
import { payload, putFile, runProbe } from './probe.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const SIGNED = 16;

/**
 * A PUT whose body differs from the signed Content-Length is refused: the URL signs
 * `content-length: 16` (as a grant does), the browser sends 17 bytes, so its Content-Length
 * header differs from the signed one. First the 16 bytes it was signed for must be accepted.
 */
export function checkPutLength(ctx: DoctorContext): Promise<CheckResult> {
  const url = (s3: S3Storage, key: string) =>
    s3.presignPut({
      key,
      headers: { 'content-type': 'text/plain', 'content-length': String(SIGNED) },
      expiresIn: 300,
    });
  const headers = { 'content-type': 'text/plain' };
  return runProbe(ctx, {
    name: 'enforce-put-length',
    control: {
      what: `a presigned PUT of the ${SIGNED} bytes it signs`,
      send: (s3, key) => putFile(ctx, url(s3, key), payload(SIGNED), headers),
    },
    violation: {
      what: `${SIGNED + 1} bytes on a PUT URL signed for content-length ${SIGNED}`,
      hole: 'a PUT grant limits no size here',
      send: (s3, key) => putFile(ctx, url(s3, key), payload(SIGNED + 1), headers),
    },
  });
}
