import { createHmac } from 'node:crypto';
import { S3Error } from '@chute/errors';
import { isoSeconds, parseAmzDate, toAmzDate } from './amz-date.ts';
import { parseCredential } from './credential.ts';
import { safeEqual } from './crypto.ts';
import { parseEndpoint } from './endpoint.ts';
import type { PostCondition } from './post-condition.ts';
import { MAX_EXPIRES } from './presign.ts';
import { signingKey, signingKeyFor } from './signing-key.ts';
import { ALGORITHM, credentialScope } from './string-to-sign.ts';
import type { Credentials, FormFields, Scope, VerifyOptions } from './types.ts';
import { invalidAccessKey, signatureMismatch } from './verify-errors.ts';

/**
 * Browser-based uploads with POST ("Creating a POST policy", "Calculating a signature"): the
 * policy is a JSON document, its base64 is the string to sign, and the SigV4 signature is
 * HMAC(signing key, base64 policy). Building follows @aws-sdk/s3-presigned-post's
 * createPresignedPost exactly (same conditions, same order, same JSON), so the two agree byte for
 * byte; what a policy means is the policy package's business.
 */

export interface PostPolicyInput extends Scope {
  /** Origin of the endpoint, e.g. 'http://127.0.0.1:9000'. */
  endpoint: string;
  bucket: string;
  /** Exact key, or a prefix ending in `${filename}` (becomes a starts-with condition). */
  key: string;
  conditions?: readonly PostCondition[];
  /** Extra form fields; each also becomes an exact-match condition. */
  fields?: Record<string, string>;
  credentials: Credentials;
  /** Seconds; defaults to 3600 like createPresignedPost. */
  expiresIn?: number;
  now?: number;
  /** The endpoint already names the bucket (virtual host): the form posts to `endpoint/`. */
  virtualHost?: boolean;
}

export interface PostPolicy {
  url: string;
  fields: Record<string, string>;
}

export function signPostPolicy(input: PostPolicyInput): PostPolicy {
  const expiresIn = input.expiresIn ?? 3600;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES) {
    throw new RangeError(`expiresIn must be an integer in 1..${MAX_EXPIRES}, got ${expiresIn}`);
  }
  const { credentials, bucket, key } = input;
  const service = input.service ?? 's3';
  const now = input.now ?? Date.now();
  const date = toAmzDate(now);
  const scope = credentialScope(date.short, input.region, service);

  const fields: Record<string, string> = {
    ...input.fields,
    bucket,
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': date.long,
  };
  if (credentials.sessionToken) fields['X-Amz-Security-Token'] = credentials.sessionToken;

  // Conditions are de-duplicated on their JSON text, in first-seen order: given conditions, then
  // one exact match per field, then the key.
  const seen = new Set<string>();
  if (input.conditions !== undefined) for (const c of input.conditions) seen.add(JSON.stringify(c));
  for (const name in fields) seen.add(JSON.stringify({ [name]: fields[name] }));
  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} placeholder
  const FILENAME = '${filename}';
  seen.add(
    key.endsWith(FILENAME)
      ? JSON.stringify(['starts-with', '$key', key.slice(0, key.lastIndexOf(FILENAME))])
      : JSON.stringify({ key }),
  );
  // "The expiration element specifies the expiration date of the policy in ISO 8601 UTC date format."
  const json = `{"expiration":${JSON.stringify(isoSeconds(now + expiresIn * 1000))},"conditions":[${[...seen].join(',')}]}`;
  const policy = Buffer.from(json, 'utf8').toString('base64');
  const signingKeyEntry = signingKeyFor(credentials, date.short, input.region, service);
  const endpoint = parseEndpoint(input.endpoint);
  return {
    url: input.virtualHost ? `${endpoint.origin}/` : `${endpoint.origin}/${bucket}`,
    fields: { ...fields, key, Policy: policy, 'X-Amz-Signature': signingKeyEntry.key.hex(policy) },
  };
}

export type PostSignatureResult = { accessKeyId: string; policyJson: string } | { anonymous: true };

/** S3's answer when a required form field is absent. */
function missingField(name: string): S3Error {
  return new S3Error(
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name, ArgumentValue: '' },
  );
}

/**
 * Verifies the signature over the base64 policy string exactly as received, before anything
 * decodes or parses it: a policy nobody signed must never reach the JSON parser or the condition
 * evaluator. Field names are matched case-insensitively ("Form fields ... are not case
 * sensitive", except the values). A form with neither a policy nor credentials is anonymous.
 */
export function verifyPostSignature(form: FormFields, opts: VerifyOptions): PostSignatureResult {
  const fields = new Map<string, string>();
  for (const name of Object.keys(form)) {
    const lower = name.toLowerCase();
    // Two spellings of one field would let the signer's copy and the evaluator's copy differ.
    if (fields.has(lower)) {
      throw new S3Error('InvalidArgument', `Field ${lower} appears more than once`, {
        ArgumentName: lower,
        ArgumentValue: form[name]!,
      });
    }
    fields.set(lower, form[name]!);
  }
  const policy = fields.get('policy');
  const algorithm = fields.get('x-amz-algorithm');
  const v2Key = fields.get('awsaccesskeyid');
  if (policy === undefined && algorithm === undefined && v2Key === undefined) {
    if (fields.has('x-amz-signature') || fields.has('signature') || fields.has('x-amz-credential')) {
      throw missingField('policy');
    }
    return { anonymous: true };
  }

  if (algorithm !== undefined) {
    if (algorithm !== ALGORITHM) {
      throw new S3Error('InvalidArgument', `X-Amz-Algorithm only supports "${ALGORITHM}"`, {
        ArgumentName: 'x-amz-algorithm',
        ArgumentValue: algorithm,
      });
    }
    const credentialValue = fields.get('x-amz-credential');
    if (credentialValue === undefined) throw missingField('X-Amz-Credential');
    const amzDate = fields.get('x-amz-date');
    if (amzDate === undefined) throw missingField('X-Amz-Date');
    const signature = fields.get('x-amz-signature');
    if (signature === undefined) throw missingField('X-Amz-Signature');
    if (policy === undefined) throw missingField('Policy');
    const credential = parseCredential(credentialValue, 'query', opts.region, opts.service ?? 's3');
    if (Number.isNaN(parseAmzDate(amzDate))) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
      );
    }
    if (credential.date !== amzDate.slice(0, 8)) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        `Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
      );
    }
    const secret = opts.lookupSecret(credential.accessKeyId);
    if (secret === undefined) throw invalidAccessKey(credential.accessKeyId);
    const key = signingKey(secret, credential.date, credential.region, credential.service);
    if (!safeEqual(key.key.hex(policy), signature)) {
      throw signatureMismatch(credential.accessKeyId, policy, signature);
    }
    return {
      accessKeyId: credential.accessKeyId,
      policyJson: Buffer.from(policy, 'base64').toString('utf8'),
    };
  }

  // SigV2 ("Browser-based uploads using POST (AWS signature version 2)"):
  // Signature = Base64(HMAC-SHA1(secret, base64 policy)).
  if (v2Key === undefined) throw missingField('AWSAccessKeyId');
  const signature = fields.get('signature');
  if (signature === undefined) throw missingField('Signature');
  if (policy === undefined) throw missingField('Policy');
  const secret = opts.lookupSecret(v2Key);
  if (secret === undefined) throw invalidAccessKey(v2Key);
  const expected = createHmac('sha1', secret).update(policy, 'utf8').digest('base64');
  if (!safeEqual(expected, signature)) throw signatureMismatch(v2Key, policy, signature);
  return { accessKeyId: v2Key, policyJson: Buffer.from(policy, 'base64').toString('utf8') };
}
