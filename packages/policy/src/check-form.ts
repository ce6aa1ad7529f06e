import { S3Error } from '@chute/errors';
import { describeCondition } from './describe.ts';
import { isExpired, parseExpiration } from './expiration.ts';
import { isSigV2, needsNoCondition } from './field-rules.ts';
import { expandFilename, indexFields } from './form-fields.ts';
import { narrow, readRange } from './length-range.ts';
import { conditionField, matchHolds } from './match.ts';
import { requireFields } from './required-fields.ts';
import type { EvaluateOptions, FormDecision, FormFields, LengthRange, PostPolicy } from './types.ts';

/**
 * Everything S3 decides about a POST before the file's bytes: required fields, expiration, each
 * condition in the policy's order, then that every field is covered. The size range comes back
 * for `checkLength` once the file has been streamed.
 *
 * `bucket` is the bucket the request targets: a `bucket` condition "Specifies the acceptable
 * bucket name" and is checked against it, never against a form field (s3-tests' wrong_bucket
 * posts a matching `bucket` field to another bucket's URL and expects 403).
 */
export function checkForm(
  policy: PostPolicy,
  fields: FormFields,
  bucket: string,
  opts: EvaluateOptions = {},
): FormDecision {
  // "All variables within the form are expanded prior to validating the POST policy."
  const expanded = expandFilename(fields, opts.filename);
  requireFields(expanded);

  const expiresAt = parseExpiration(policy.expiration);
  if (expiresAt === undefined) {
    throw new S3Error(
      'InvalidPolicyDocument',
      `Invalid Policy: Invalid 'expiration' value: '${policy.expiration}'`,
    );
  }
  if (isExpired(expiresAt, opts.now ?? Date.now())) {
    throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.');
  }

  const index = indexFields(expanded);
  const lookup = (field: string) => (field === 'bucket' ? bucket : index.get(field)?.value);
  let lengthRange: LengthRange | undefined;
  for (const condition of policy.conditions) {
    if (Array.isArray(condition) && condition[0] === 'content-length-range') {
      const range = readRange(condition);
      if (!range) throw conditionFailed(condition);
      lengthRange = narrow(lengthRange, range);
    } else if (!matchHolds(condition, lookup)) {
      throw conditionFailed(condition);
    }
  }

  // "Each form field that you specify in a form (except …) must appear in the list of
  // conditions." S3 names one uncovered field, lowercased (captures: `content-type`, `filename`
  // for Flash's `Filename`, `x-requested-with`, `bucket`).
  const covered = new Set(policy.conditions.map(conditionField));
  const sigV2 = isSigV2((name) => index.has(name));
  for (const field of index.keys()) {
    if (needsNoCondition(field, sigV2) || covered.has(field)) continue;
    throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${field}`);
  }

  const key = index.get('key')!.value;
  return lengthRange ? { key, fields: expanded, lengthRange } : { key, fields: expanded };
}

function conditionFailed(condition: PostPolicy['conditions'][number]): S3Error {
  return new S3Error(
    'AccessDenied',
    `Invalid according to Policy: Policy Condition failed: ${describeCondition(condition)}`,
  );
}
