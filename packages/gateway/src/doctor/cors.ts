import { corsXml } from '../storage/admin.ts';
import { matchRule, parseCors } from './cors-rules.ts';
import { bucketRequest, networkReason } from './request.ts';
import { type CheckResult, type DoctorContext, fail, pass, skip } from './types.ts';

const NAME = 'bucket-cors';

/**
 * What a browser sends with a grant. PUT (presigned URL): a preflight naming the signed headers
 * (content-type and the x-amz-meta-* the gateway signs; content-length is set by the browser and
 * never asked for). POST (form): multipart/form-data, a simple request, but the page still needs
 * the CORS headers to read the answer. Multipart clients read each part's ETag from a PUT's
 * answer, so the PUT rule must expose it.
 */
const PUT_HEADERS = ['content-type', 'x-amz-meta-upload-id', 'x-amz-meta-user-id'];

/** The bucket's CORS configuration allows every configured origin to PUT and POST, exposing ETag. */
export async function checkCors(ctx: DoctorContext): Promise<CheckResult> {
  if (ctx.origins.length === 0)
    return skip(NAME, 'no browser origins configured (cors.origins): nothing to check');
  const fix = `PUT /${ctx.storage.bucket}?cors with ${corsXml(ctx.origins)}`;
  let answer: Awaited<ReturnType<typeof bucketRequest>>;
  try {
    answer = await bucketRequest(ctx, { method: 'GET', query: { cors: '' } });
  } catch (e) {
    return fail(NAME, `storage does not answer: ${networkReason(e)}`, 'see the credentials check');
  }
  if (answer.status === 404 && answer.code === 'NoSuchCORSConfiguration')
    return fail(
      NAME,
      `bucket "${ctx.storage.bucket}" has no CORS configuration: browsers cannot upload`,
      fix,
    );
  if (answer.status !== 200)
    return fail(
      NAME,
      `GET ?cors answered ${answer.status} (${answer.code})`,
      `see the credentials check; ${fix}`,
    );
  const rules = parseCors(answer.body);
  if (rules === undefined) return fail(NAME, 'GET ?cors did not answer a CORSConfiguration document', fix);
  const problems: string[] = [];
  for (const origin of ctx.origins) {
    const put = matchRule(rules, origin, 'PUT', PUT_HEADERS);
    if (put === undefined) problems.push(`${origin}: no rule allows PUT with ${PUT_HEADERS.join(', ')}`);
    else if (!put.expose.some((h) => h.toLowerCase() === 'etag'))
      problems.push(`${origin}: the PUT rule does not expose ETag (multipart uploads need it)`);
    if (matchRule(rules, origin, 'POST', []) === undefined) problems.push(`${origin}: no rule allows POST`);
  }
  if (problems.length > 0) return fail(NAME, problems.join('; '), fix);
  return pass(NAME, `${ctx.origins.join(', ')} may PUT and POST to "${ctx.storage.bucket}"; ETag exposed`);
}
