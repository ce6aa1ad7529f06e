// Where an engine differs from AWS S3. The suite asserts AWS's behaviour; a difference is tolerated
// only when it is declared here, for that target, and only in the exact form declared: a declared
// deviation that the engine no longer shows fails too, so this table cannot go stale.
// Every row is listed in docs/compat.md (checked by deviations.test.ts).
import assert from 'node:assert/strict';
import type { S3ErrorShape } from './helpers.ts';
import type { Target, TargetName } from './target.ts';

export interface Deviation {
  id: string;
  target: TargetName;
  aws: string;
  engine: string;
  test: string;
  /** For error deviations: the status and code the engine answers instead. */
  error?: { status: number; code: string };
}

export const deviations = [
  {
    id: 'empty-error-message',
    target: 'rgw',
    aws: 'every error body carries a human-readable <Message>',
    engine:
      '<Message></Message> is empty for most errors (signature, expiry, S3 operation errors); only POST policy condition failures carry one',
    test: 'every error assertion on a raw response (expectError)',
  },
  {
    id: 'checksum-not-validated',
    target: 'rgw',
    aws: 'PUT whose body does not match x-amz-checksum-sha256 → 400 BadDigest',
    engine: 'the checksum header is ignored: 200, object stored',
    test: 'presigned.test.ts › with a signed x-amz-checksum-sha256 › refuses a body that does not match',
  },
  {
    id: 'post-tampered-signature',
    target: 'rgw',
    aws: 'POST form with a wrong x-amz-signature → 403 SignatureDoesNotMatch',
    engine: '403 AccessDenied',
    test: 'post-policy.test.ts › refuses a tampered signature',
    error: { status: 403, code: 'AccessDenied' },
  },
  {
    id: 'post-tampered-policy',
    target: 'rgw',
    aws: 'POST form whose policy was changed after signing → 403 SignatureDoesNotMatch',
    engine: '403 AccessDenied',
    test: 'post-policy.test.ts › refuses a tampered policy',
    error: { status: 403, code: 'AccessDenied' },
  },
  {
    id: 'post-201-etag-unquoted',
    target: 'rgw',
    aws: 'success_action_status 201: <ETag>"md5"</ETag> in the PostResponse XML (quoted, like the header)',
    engine: '<ETag>md5</ETag> without the quotes (the ETag header is quoted)',
    test: 'post-policy.test.ts › accepts a form within every condition',
  },
  {
    id: 'copy-result-etag-unquoted',
    target: 'rgw',
    aws: 'CopyObject: <CopyObjectResult><ETag>"md5"</ETag> (quoted)',
    engine: '<ETag>md5</ETag> without the quotes',
    test: 'objects.test.ts › CopyObject › COPY keeps content type and metadata',
  },
  {
    id: 'complete-etag-empty',
    target: 'rgw',
    aws: 'CompleteMultipartUploadResult <ETag>"md5(part md5s)-N"</ETag>',
    engine: '<ETag></ETag> empty (HEAD afterwards shows the right quoted ETag); Red Hat BZ 2266579',
    test: 'multipart.test.ts › completes: ETag is md5 of the part md5s; › completing it properly works; › part order',
  },
  {
    id: 'list-parts-no-such-key',
    target: 'rgw',
    aws: 'ListParts of a completed, aborted or unknown upload → 404 NoSuchUpload',
    engine: '404 NoSuchKey (UploadPart and AbortMultipartUpload do answer NoSuchUpload)',
    test: 'multipart.test.ts › a completed upload is gone; › multipart: abort',
    error: { status: 404, code: 'NoSuchKey' },
  },
  {
    id: 'complete-unknown-upload',
    target: 'rgw',
    aws: 'CompleteMultipartUpload with an unknown upload id → 404 NoSuchUpload',
    engine: '500 InternalError "This multipart completion is already in progress"',
    test: 'multipart.test.ts › an unknown upload id',
    error: { status: 500, code: 'InternalError' },
  },
  {
    id: 'complete-part-order-unchecked',
    target: 'rgw',
    aws: 'CompleteMultipartUpload listing parts out of ascending order → 400 InvalidPartOrder',
    engine: '200: the list is sorted and the object completed in part-number order',
    test: 'multipart.test.ts › parts listed out of order',
  },
  {
    id: 'cors-refusal-access-denied',
    target: 'rgw',
    aws: 'a refused preflight (origin, method or no CORS configuration) → 403 AccessForbidden "CORSResponse: …"',
    engine: '403 AccessDenied',
    test: 'cors.test.ts › a preflight from another origin; › a method no rule allows; › without a configuration',
    error: { status: 403, code: 'AccessDenied' },
  },
  {
    id: 'region-not-checked',
    target: 'rgw',
    aws: 'a SigV4 credential scoped to another region → 400 AuthorizationHeaderMalformed ("the region … is wrong")',
    engine: 'any region in the credential scope is accepted: 200',
    test: 'presigned.test.ts › refuses a signature scoped to another region',
  },
  {
    id: 'list-buckets-no-paging',
    target: 'rgw',
    aws: 'ListBuckets honours prefix, max-buckets (1..10000, else 400 InvalidArgument) and continuation-token',
    engine: 'all three are ignored: every bucket in one answer, no ContinuationToken, no Prefix, no error',
    test: 'buckets.test.ts › ListBuckets paging',
  },
  {
    id: 'aws-chunked-needs-content-length',
    target: 'rgw',
    aws: 'an aws-chunked PUT with x-amz-decoded-content-length may come Transfer-Encoding: chunked, without Content-Length (newer SDKs and CLIs send it so)',
    engine: '411 MissingContentLength',
    test: 'framing.test.ts › aws-chunked with x-amz-decoded-content-length, sent chunked without Content-Length',
    error: { status: 411, code: 'MissingContentLength' },
  },
  {
    id: 'post-checksum-not-validated',
    target: 'rgw',
    aws: 'a POST form field x-amz-checksum-* is checked against the file (400 BadDigest, malformed 400 InvalidRequest) and stored with the object',
    engine: 'the field is ignored: the form is accepted (204), nothing is checked, no checksum is stored',
    test: 'post-fields.test.ts › POST Object integrity fields',
    error: { status: 204, code: '' },
  },
  {
    id: 'cors-preflight-no-origin',
    target: 'rgw',
    aws: 'a preflight (OPTIONS) without Origin → 400 BadRequest "Insufficient information. Origin request header needed."',
    engine: '400 InvalidArgument',
    test: 'cors.test.ts › a preflight without Origin',
    error: { status: 400, code: 'InvalidArgument' },
  },
  {
    id: 'tag-duplicate-keys-accepted',
    target: 'rgw',
    aws: 'a tag set with the same key twice → 400 InvalidTag "Cannot provide multiple Tags with the same key"',
    engine: 'accepted: the object stored (POST 204, PUT with x-amz-tagging 200)',
    test: 'post-fields.test.ts › the same key twice in `tagging`; › x-amz-tagging on PUT › the same key twice',
    error: { status: 204, code: '' },
  },
  {
    id: 'skew-no-server-time',
    target: 'rgw',
    aws: 'RequestTimeTooSkewed carries <RequestTime>, <ServerTime> and <MaxAllowedSkewMilliseconds>900000',
    engine: 'the same 403 RequestTimeTooSkewed, with none of the three elements',
    test: "clock-skew.test.ts › a request signed 16 min slow; › 16 min fast → 403 RequestTimeTooSkewed with the server's time",
  },
] as const satisfies readonly Deviation[];

export type DeviationId = (typeof deviations)[number]['id'];

function declared(target: TargetName, id: DeviationId): Deviation | undefined {
  return (deviations as readonly Deviation[]).find((d) => d.id === id && d.target === target);
}

/** True when this target declares deviation `id`: the test must then assert the engine's behaviour. */
export function deviates(target: Target, id: DeviationId): boolean {
  return declared(target.name, id) !== undefined;
}

/**
 * Asserts an S3 error: AWS's status and code, or — when `deviation` is declared for this target —
 * exactly the engine's instead. Error bodies must carry a <Message>, non-empty unless the target
 * declares `empty-error-message`.
 */
export function expectError(
  target: Target,
  actual: S3ErrorShape,
  status: number,
  code: string,
  opts: { deviation?: DeviationId } = {},
): void {
  const dev = opts.deviation ? declared(target.name, opts.deviation) : undefined;
  if (opts.deviation) assert.ok(deviations.some((d) => d.id === opts.deviation));
  const want = dev ? dev.error : { status, code };
  assert.ok(want, `deviation ${opts.deviation} declares no error`);
  const where = dev ? ` (deviation ${dev.id} on ${target.name}; AWS: ${status} ${code})` : '';
  assert.deepEqual(
    { status: actual.status, code: actual.code },
    { status: want.status, code: want.code },
    `expected ${want.status} ${want.code}${where}, got ${actual.status} ${actual.code}`,
  );
  if (!actual.hasBody) return;
  assert.ok(/<Message>/.test(actual.body), `${actual.code} without a <Message> element`);
  if (!deviates(target, 'empty-error-message')) {
    assert.notEqual(actual.message, '', `${actual.code} with an empty <Message>`);
  }
}

/**
 * Asserts an ETag as S3 writes it, quoted: `"<hex>"` — or, when `deviation` is declared for this
 * target, exactly the bare hex the engine writes instead.
 */
export function expectEtag(
  target: Target,
  actual: string | undefined,
  hex: string,
  opts: { deviation?: DeviationId } = {},
): void {
  const bare = opts.deviation !== undefined && deviates(target, opts.deviation);
  assert.equal(
    actual,
    bare ? hex : `"${hex}"`,
    bare ? `deviation ${opts.deviation}: AWS sends "${hex}"` : '',
  );
}
