import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The two signed links of the no-JS form, HMAC-SHA256 under `form.secret`: the page link the
 * app hands the browser (`/form/{id}?exp=&sig=`), and the redirect target signed into the POST
 * policy (`/form/done?upload=&exp=[&to=]&sig=`), to which storage appends bucket, key and etag.
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

export function pageLink(
  base: string,
  secret: string,
  id: string,
  exp: number,
  to: string | undefined,
): string {
  const q = new URLSearchParams({ exp: String(exp) });
  if (to !== undefined) q.set('to', to);
  q.set('sig', signLink(secret, 'page', id, exp, to ?? ''));
  return `${base}/form/${id}?${q}`;
}

export function doneLink(
  base: string,
  secret: string,
  id: string,
  exp: number,
  to: string | undefined,
): string {
  const q = new URLSearchParams({ upload: id, exp: String(exp) });
  if (to !== undefined) q.set('to', to);
  q.set('sig', signLink(secret, 'done', id, exp, to ?? ''));
  return `${base}/form/done?${q}`;
}
