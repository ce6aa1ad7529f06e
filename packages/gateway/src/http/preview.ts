import type { Upload } from '../db/types.ts';
import type { Storage } from '../storage/types.ts';
import { contentDisposition } from './download.ts';

/** How long a reviewer's preview link lives: enough to load the queue's images. */
export const PREVIEW_URL_SECONDS = 300;

/**
 * Types a browser may render inline on storage's origin: raster images, which cannot carry
 * script. Everything else — SVG (scriptable XML), HTML, PDF, text that a browser might sniff — is
 * served as an attachment, so a file from a user never runs in anyone's browser (stored XSS).
 */
const INLINE_SAFE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

export interface Preview {
  url: string;
  expiresIn: number;
  disposition: 'inline' | 'attachment';
}

/** A short-lived signed GET of the frozen file for a reviewer, or undefined once it is gone. */
export function previewOf(storage: Storage, u: Upload): Preview | undefined {
  if (u.fileKey === null || u.purgedAt !== null || u.detectedType === null) return undefined;
  const inline = INLINE_SAFE.has(u.detectedType);
  return {
    url: storage.presignGet({
      key: u.fileKey,
      expiresIn: PREVIEW_URL_SECONDS,
      responseContentDisposition: inline ? 'inline' : contentDisposition(u.filename),
      // The type read from the bytes, never the declared one, and never one the browser guesses.
      responseContentType: u.detectedType,
    }),
    expiresIn: PREVIEW_URL_SECONDS,
    disposition: inline ? 'inline' : 'attachment',
  };
}
