import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"): "The
 * content to sign is composed by concatenating the id, timestamp and payload, separated by the
 * full-stop character (.)", HMAC-SHA256 keyed with "the base64 portion" of the `whsec_` secret,
 * sent as `v1,<base64>`. A few lines on the dispatcher's path, so ours; the tests cross-check it
 * against the `standardwebhooks` package that receivers use.
 */
const PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The spec: "secrets should be between 24 bytes and 64 bytes". */
export const SECRET_BYTES = { min: 24, max: 64 } as const;

/** The key bytes of a `whsec_` secret; throws (with the rule) when it is not one. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new TypeError('a webhook secret starts with whsec_');
  const b64 = secret.slice(PREFIX.length);
  // Buffer.from(…, 'base64') skips what it cannot read; a typo must not silently shorten the key.
  if (!BASE64.test(b64)) throw new TypeError('a webhook secret is whsec_ followed by base64');
  const key = Buffer.from(b64, 'base64');
  if (key.length < SECRET_BYTES.min || key.length > SECRET_BYTES.max) {
    throw new TypeError(
      `a webhook secret must decode to ${SECRET_BYTES.min}–${SECRET_BYTES.max} bytes (this one: ${key.length})`,
    );
  }
  return key;
}

/** The `webhook-signature` header for one attempt. `timestamp` is in seconds. */
export function sign(key: Buffer, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}
