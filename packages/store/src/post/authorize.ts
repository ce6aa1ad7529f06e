/**
 * Who may make a POST and what it may store, decided from the fields before the file arrives.
 *
 * Order, as S3 answers (AWS's POST pages; S3's answers recorded by LocalStack and in issue
 * threads): the form's required fields (`key`, the signing fields of its version), then the
 * signature over the policy *as sent* — "Verify first, parse second": a truncated policy is
 * SignatureDoesNotMatch, never InvalidPolicyDocument — then the policy's JSON, its expiration
 * and conditions, and that every field is covered. A form with no signing field at all is
 * anonymous: "Requests without a security policy are considered anonymous and will succeed only
 * on publicly writable buckets."
 */
import { S3Error } from '@chute/errors';
import { checkForm, type LengthRange, parsePolicy, requireFields } from '@chute/policy';
import { type VerifyOptions, verifyPostSignature } from '@chute/sigv4';
import { enforceAccess } from '../auth.ts';
import type { BucketInfo } from '../backend/types.ts';
import { formField } from './respond.ts';

/** The fields whose presence makes a form a signed one (SigV4 and SigV2), lowercased. */
const SIGNING_FIELDS = [
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-signature',
  'awsaccesskeyid',
  'signature',
];

export interface PostGrant {
  /** The access key that signed the form; undefined for an anonymous form. */
  accessKeyId: string | undefined;
  /** The object key, `${filename}` expanded. */
  key: string;
  /** The fields with `${filename}` expanded, as they were checked. */
  fields: Record<string, string>;
  lengthRange?: LengthRange;
}

export interface AuthorizeInput {
  fields: Record<string, string>;
  bucket: BucketInfo;
  /** The `file` part's filename parameter; undefined when it had none. */
  filename: string | undefined;
  verify: Omit<VerifyOptions, 'maxSkewMs'>;
}

export function isSignedForm(fields: Record<string, string>): boolean {
  return Object.keys(fields).some((name) => SIGNING_FIELDS.includes(name.toLowerCase()));
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally.
const FILENAME = '${filename}';

/** `${filename}` in the key of an anonymous form (a signed one has it expanded by the policy check). */
function expandKey(key: string, filename: string | undefined): string {
  if (filename === undefined) return key;
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  return key.replaceAll(FILENAME, () => base);
}

function missingKey(): S3Error {
  return new S3Error(
    'InvalidArgument',
    "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
    { ArgumentName: 'key', ArgumentValue: '' },
  );
}

/** "The policy is a UTF-8 and Base64-encoded JSON document." */
function decodePolicy(text: string): string {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: invalid Base64 encoding.');
  }
  const bytes = Buffer.from(compact, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
}

export function authorizePost(input: AuthorizeInput): PostGrant {
  const { fields, bucket, filename } = input;

  // Signing fields without the policy they would sign sign nothing: the form is anonymous too
  // (S3 and RGW answer such a form to a private bucket 403 AccessDenied, not a missing field).
  const policyText = formField(fields, 'policy');
  if (!isSignedForm(fields) || policyText === undefined) {
    const key = expandKey(formField(fields, 'key') ?? '', filename);
    if (key === '') throw missingKey();
    enforceAccess({ kind: 'anonymous' }, 'write', bucket);
    return { accessKeyId: undefined, key, fields };
  }

  requireFields(fields);
  const signer = verifyPostSignature(fields, input.verify);
  if (!('accessKeyId' in signer)) throw new S3Error('AccessDenied');

  const policy = parsePolicy(decodePolicy(policyText));
  const decision = checkForm(
    policy,
    fields,
    bucket.name,
    filename === undefined ? { now: input.verify.now } : { now: input.verify.now, filename },
  );
  const grant: PostGrant = { accessKeyId: signer.accessKeyId, key: decision.key, fields: decision.fields };
  if (decision.lengthRange) grant.lengthRange = decision.lengthRange;
  return grant;
}
