import { esc } from '../xml.ts';

/**
 * The answer to a successful POST Object, chosen by the form (AWS "HTML form fields"):
 *
 * - `success_action_redirect` (or the deprecated `redirect`): 303 to that URL, to which "Amazon S3
 *   appends the bucket, key, and etag values as query string parameters". "If Amazon S3 cannot
 *   interpret the URL, it acts as if the field is not present" (a relative URL was answered 204).
 * - `success_action_status`: "If the value is set to 200 or 204, Amazon S3 returns an empty
 *   document with a 200 or 204 status code. If the value is set to 201, Amazon S3 returns an XML
 *   document with a 201 status code. If the value is not set or if it is set to a value that is
 *   not valid, Amazon S3 returns an empty document with a 204 status code."
 *
 * Every success carries ETag (quoted) and Location (the object's URL, key percent-encoded with
 * `/` as %2F), as S3's 204 does.
 */

export interface PostResult {
  bucket: string;
  key: string;
  /** Hex MD5, without quotes. */
  etag: string;
  /** The object's URL, e.g. http://127.0.0.1:9000/bucket/a%2Fb.txt */
  location: string;
}

export interface PostAnswer {
  status: 200 | 201 | 204 | 303;
  headers: Record<string, string>;
  body: string;
}

/** A field by case-insensitive name ("The post parameters are case insensitive."). */
export function formField(fields: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(fields)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** The object's URL: `${origin}/${bucket}/${key}` path-style, or `${origin}/${key}` virtual-host. */
export function objectLocation(origin: string, bucket: string, key: string, virtualHost: boolean): string {
  const path = encodeURIComponent(key);
  return virtualHost ? `${origin}/${path}` : `${origin}/${encodeURIComponent(bucket)}/${path}`;
}

/** An absolute http(s) URL, or undefined for anything S3 "cannot interpret". */
function redirectTarget(value: string | undefined): string | undefined {
  if (value === undefined || value === '' || !URL.canParse(value)) return undefined;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:' ? value : undefined;
}

/**
 * The redirect URL: the form's URL as written (its query kept), then `bucket`, `key` and `etag`
 * form-encoded in that order — the key's `/` as %2F, a space as `+`, the ETag quoted as
 * %22…%22 — as S3 was recorded sending them. A fragment stays at the end.
 */
export function redirectUrl(target: string, result: PostResult): string {
  const hash = target.indexOf('#');
  const base = hash < 0 ? target : target.slice(0, hash);
  const fragment = hash < 0 ? '' : target.slice(hash);
  const added = new URLSearchParams({
    bucket: result.bucket,
    key: result.key,
    etag: `"${result.etag}"`,
  }).toString();
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${sep}${added}${fragment}`;
}

/** S3's 201 body: no namespace, raw Key, Location with the key percent-encoded, quoted ETag. */
export function postResponseXml(result: PostResult): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>' +
    `<Location>${esc(result.location)}</Location><Bucket>${esc(result.bucket)}</Bucket>` +
    `<Key>${esc(result.key)}</Key><ETag>"${esc(result.etag)}"</ETag></PostResponse>`
  );
}

export function postAnswer(fields: Record<string, string>, result: PostResult): PostAnswer {
  const headers: Record<string, string> = { etag: `"${result.etag}"`, location: result.location };
  const target = redirectTarget(
    formField(fields, 'success_action_redirect') ?? formField(fields, 'redirect'),
  );
  if (target !== undefined) {
    return { status: 303, headers: { ...headers, location: redirectUrl(target, result) }, body: '' };
  }
  switch (formField(fields, 'success_action_status')) {
    case '200':
      return { status: 200, headers, body: '' };
    case '201':
      return {
        status: 201,
        headers: { ...headers, 'content-type': 'application/xml' },
        body: postResponseXml(result),
      };
    default:
      return { status: 204, headers, body: '' };
  }
}
