import { S3Error } from '@chute/errors';
import { isSigV2, SIGV2_FIELDS, SIGV4_FIELDS } from './field-rules.ts';
import { indexFields } from './form-fields.ts';
import type { FormFields } from './types.ts';

/**
 * The fields a form with a policy must carry: `key` ("The name of the uploaded key", required),
 * then the signing fields of its signature version — "The POST policy must include the following
 * elements: x-amz-algorithm, x-amz-credential, x-amz-date" and the form must carry
 * `x-amz-signature`. S3 answers a missing one with `InvalidArgument` (not the error table's
 * `UserKeyMustBeSpecified`), naming the first missing field in its canonical spelling, and
 * names `X-Amz-Algorithm` before `X-Amz-Credential`. A field after `file` never reaches us,
 * hence S3's "please check the order of the fields".
 *
 * An empty `key` names no object and is answered as a missing one.
 */
export function requireFields(fields: FormFields): void {
  const index = indexFields(fields);
  if (!index.get('key')?.value) throw missing('key');
  const has = (name: string) => index.has(name);
  const signing = isSigV2(has) ? SIGV2_FIELDS : SIGV4_FIELDS;
  for (const name of signing) if (!has(name.toLowerCase())) throw missing(name);
}

function missing(name: string): S3Error {
  return new S3Error(
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name, ArgumentValue: '' },
  );
}
