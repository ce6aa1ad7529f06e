import type { PostCondition } from '@chute/sigv4';
import type { RouteRule } from './rule.ts';

/**
 * POST policy conditions, shaped as S3 reads them (the one definition is @chute/sigv4's).
 * The signer (`signPostPolicy`) adds the policy's expiration and the x-amz-algorithm,
 * x-amz-credential and x-amz-date conditions; everything that depends on the rule is here.
 */
export type Condition = PostCondition;

export interface PostInput {
  bucket: string;
  key: string;
  uploadId: string;
  userId: string;
  /** The declared Content-Type, as returned by checkDeclared (already allowed by the rule). */
  contentType: string;
  /** The declared size, already within the rule's range. */
  size: number;
}

/**
 * Every form field the browser sends must be covered by a condition, and every condition here is
 * an exact match: S3 refuses the form if the key, type or metadata differ from the grant.
 *
 * - key `eq`: the key is server-chosen; `starts-with` would let the client pick a sibling key
 *   and overwrite another upload of the same user.
 * - Content-Type `eq` the declared type: the declared type is required and checked against the
 *   route at grant time, so there is never a need for a `starts-with` ("image/") condition.
 * - content-length-range = the declared size exactly, not the route's min..max: quota is
 *   reserved on the declared size, and the PUT path signs Content-Length to the same number, so
 *   both transports hold the client to what it declared. (It is within min..max by checkDeclared.)
 * - x-amz-meta-upload-id / -user-id `eq`: complete checks them, so an object cannot be passed off
 *   as another upload's.
 * - success_action_status "201": browsers get an XML body naming the key instead of an empty 204,
 *   and no success_action_redirect field is allowed (open redirect).
 */
export function postConditions(rule: RouteRule, input: PostInput): Condition[] {
  const conditions: Condition[] = [
    { bucket: input.bucket },
    ['eq', '$key', input.key],
    ['eq', '$Content-Type', input.contentType],
    ['eq', '$x-amz-meta-upload-id', input.uploadId],
    ['eq', '$x-amz-meta-user-id', input.userId],
  ];
  for (const [k, v] of Object.entries(rule.metadata)) conditions.push(['eq', `$x-amz-meta-${k}`, v]);
  conditions.push(['eq', '$success_action_status', '201']);
  conditions.push(['content-length-range', input.size, input.size]);
  return conditions;
}

/**
 * The form fields that go with the conditions (besides policy, signature and credential fields,
 * which the signer returns), derived from the conditions so the two cannot drift apart.
 * `bucket` is not a field: it is in the URL.
 */
export function postFields(conditions: readonly Condition[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const c of conditions) {
    if (Array.isArray(c)) {
      if (c[0] === 'eq') fields[c[1].slice(1)] = c[2];
    } else {
      for (const [k, v] of Object.entries(c)) if (k !== 'bucket') fields[k] = v;
    }
  }
  return fields;
}
