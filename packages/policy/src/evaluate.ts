import { checkForm } from './check-form.ts';
import { checkLength } from './check-length.ts';
import type { Decision, EvaluateOptions, FormFields, PostPolicy } from './types.ts';

/**
 * A submitted form against its (verified, parsed) policy, exactly as S3 judges it, when the
 * file's size is already known. A store that streams the file calls `checkForm` before the
 * bytes and `checkLength` after them instead. Throws `S3Error` on the first rule broken.
 */
export function evaluate(
  policy: PostPolicy,
  formFields: FormFields,
  fileSize: number,
  bucket: string,
  opts: EvaluateOptions = {},
): Decision {
  const { key, fields, lengthRange } = checkForm(policy, formFields, bucket, opts);
  checkLength(lengthRange, fileSize);
  return { key, fields };
}
