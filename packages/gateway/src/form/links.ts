import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The two signed links of the no-JS form, HMAC-SHA256 under `form.secret`: the page link the
 * app hands the browser (`/form/{id}?exp=&sig=`), and the redirect target signed into the POST
 * policy (`/form/done/{id}/{exp}/{to}/{sig}`), to which storage appends bucket, key and etag.
 * Each covers its purpose, the upload id, the deadline and (done) the return URL: a link for one
 * upload cannot be turned into one for another, a later deadline or another destination.
 */

export type LinkPurpose = 'page' | 'done';

function mac(secret: string, purpose: LinkPurpose, id: string, exp: number, to: string): Buffer {
  return createHmac('sha256', secret).update(`chute-form-v1\n${purpose}\n${id}\n${exp}\n${to}`).digest();
}

export function signLink(secret: string, purpose: LinkPurpose, id: string, exp: number, to = ''): string {
  return mac(secret, purpose, id, exp, to).toString('base64url');
}

export function linkValid(
  secret: string,
  purpose: LinkPurpose,
  id: string,
  exp: number,
  to: string,
  sig: string,
): boolean {
  const expected = mac(secret, purpose, id, exp, to);
  const given = Buffer.from(sig, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What a form link is for: the upload, its deadline (epoch ms), and the return URL, if any. */
export interface LinkTarget {
  id: string;
  exp: number;
  to: string | undefined;
}

export function pageLink(base: string, secret: string, { id, exp, to }: LinkTarget): string {
  const q = new URLSearchParams({ exp: String(exp) });
  if (to !== undefined) q.set('to', to);
  q.set('sig', signLink(secret, 'page', id, exp, to ?? ''));
  return `${base}/form/${id}?${q}`;
}

/**
 * Everything signed is in the path, and the query is left to storage: AWS appends
 * `?bucket=&key=&etag=` (or `&…` after a query), but RGW (16.2) always appends `?…`, which would
 * run into a query of ours. The return URL travels base64url-encoded ("-" for none).
 */
export function doneLink(base: string, secret: string, { id, exp, to }: LinkTarget): string {
  const sig = signLink(secret, 'done', id, exp, to ?? '');
  const target = to === undefined ? '-' : Buffer.from(to).toString('base64url');
  return `${base}/form/done/${id}/${exp}/${target}/${sig}`;
}

/** The return URL of a done link's path segment; undefined when it is not valid base64url. */
export function doneTarget(segment: string): string | undefined {
  if (segment === '-') return '';
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  return Buffer.from(segment, 'base64url').toString('utf8');
}
