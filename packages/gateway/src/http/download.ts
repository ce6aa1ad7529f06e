import { ChuteError } from '@chute/errors';
import type { Services } from '../services.ts';
import { visibleUpload } from './access.ts';
import { authenticate, type Ctx } from './context.ts';

/** Long enough to start a download; short because the URL is a bearer credential once leaked. */
export const DOWNLOAD_URL_SECONDS = 60;

/**
 * GET /v1/files/{id}/download[?copy=published] — 302 (or, with `Accept: application/json`, 200 `{url, expiresIn}`) to a short-lived signed GET of the frozen file, for its
 * owner, reviewers and admins. Served as an attachment with the type read from the bytes: a file
 * from users must never render inline on storage's origin (stored XSS).
 */
export function getDownload(services: Services) {
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '', { reviewers: true });
    // ?copy=published: the published copy (what the app serves), while the file is published.
    const published = c.req.query('copy') === 'published';
    const key = published ? upload.publishedKey : upload.fileKey;
    if (
      key === null ||
      upload.purgedAt !== null ||
      upload.state === 'rejected' ||
      upload.state === 'withdrawn'
    )
      throw new ChuteError('not_found', { message: 'No such file.' });
    const url = services.storage.presignGet({
      key,
      expiresIn: DOWNLOAD_URL_SECONDS,
      responseContentDisposition: contentDisposition(upload.filename),
      ...(upload.detectedType !== null && { responseContentType: upload.detectedType }),
    });
    c.header('cache-control', 'no-store');
    // A page calling with fetch cannot read a cross-origin redirect's Location (opaque
    // redirect), and following it would send its Authorization header on to storage.
    if (wantsJson(c.req.header('accept'))) return c.json({ url, expiresIn: DOWNLOAD_URL_SECONDS });
    return c.redirect(url, 302);
  };
}

function wantsJson(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*application\/json\b/i.test(accept);
}

/** RFC 6266: an ASCII fallback name plus the exact name as RFC 8187 `filename*`. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
