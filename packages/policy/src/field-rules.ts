/**
 * Which fields S3 lets a condition match by prefix, from the condition table of AWS's "POST
 * Policy" page: `bucket` "supports exact matching condition match type"; `success_action_status`,
 * `x-amz-algorithm`, `x-amz-credential`, `x-amz-date` are exact only; `x-amz-*` "supports exact
 * matching"; while `acl`, the REST headers (Cache-Control, Content-Type, Content-Disposition,
 * Content-Encoding, Expires), `key`, `success_action_redirect`/`redirect` and `x-amz-meta-*`
 * take "exact and starts-with". Fields the table does not name (e.g. `tagging`) are not
 * restricted. Names are lowercased.
 */
export function allowsStartsWith(field: string): boolean {
  if (field === 'bucket' || field === 'success_action_status') return false;
  if (field.startsWith('x-amz-meta-')) return true;
  return !field.startsWith('x-amz-');
}

/**
 * Fields no condition needs to cover: "Each form field that you specify in a form (except
 * x-amz-signature, file, policy, and field names that have an x-ignore- prefix) must appear in
 * the list of conditions." Signature Version 2 forms: "(except AWSAccessKeyId, signature, file,
 * policy, and field names that have an x-ignore- prefix)". Names are lowercased.
 */
const EXEMPT_V4 = new Set(['x-amz-signature', 'file', 'policy']);
const EXEMPT_V2 = new Set(['awsaccesskeyid', 'signature', 'file', 'policy']);

export function needsNoCondition(field: string, sigV2: boolean): boolean {
  return (sigV2 ? EXEMPT_V2 : EXEMPT_V4).has(field) || field.startsWith('x-ignore-');
}

/** The fields that sign a Signature Version 4 form, in the order S3 names the first one missing. */
export const SIGV4_FIELDS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Signature'];
/** The fields that sign a Signature Version 2 form. */
export const SIGV2_FIELDS = ['AWSAccessKeyId', 'Signature'];

/** A form is Signature Version 2 when it carries v2's fields and none of v4's. */
export function isSigV2(has: (lowerName: string) => boolean): boolean {
  const v4 = SIGV4_FIELDS.some((f) => has(f.toLowerCase()));
  return !v4 && SIGV2_FIELDS.some((f) => has(f.toLowerCase()));
}
