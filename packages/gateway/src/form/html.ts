/**
 * The no-JS form's HTML: the upload form (every policy field hidden, the file last, as S3
 * requires), the result page and error pages. No script anywhere, and the CSP says so.
 */

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `script-src 'none'`: nothing on these pages runs. form-action: the form posts to storage,
 * storage redirects to /form/done ('self'), which may redirect to the app — browsers apply
 * form-action to every redirect of a form submission, so all three must be listed.
 */
export function formCsp(storageOrigins: readonly string[], returnOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'none'",
    "style-src 'none'",
    "img-src 'none'",
    "base-uri 'none'",
    `form-action 'self' ${[...new Set([...storageOrigins, ...returnOrigins])].join(' ')}`,
    "frame-ancestors 'none'",
  ].join('; ');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(title)}</title></head>
<body>
<h1>${esc(title)}</h1>
${body}
</body>
</html>
`;
}

export interface FormView {
  action: string;
  /** Hidden fields, in order. */
  fields: Record<string, string>;
  /** Types to pick from when the route has several (the Content-Type field); else empty. */
  types: readonly string[];
  limits: string;
}

/** Just the <form>: what an app embeds in a page of its own (POST /v1/forms `html`). */
export function formElement(v: FormView): string {
  const hidden = Object.entries(v.fields)
    .map(([k, val]) => `  <input type="hidden" name="${esc(k)}" value="${esc(val)}">`)
    .join('\n');
  const select =
    v.types.length > 0
      ? `  <p><label>Type of file <select name="Content-Type" required>\n${v.types
          .map((t) => `    <option value="${esc(t)}">${esc(t)}</option>`)
          .join('\n')}\n  </select></label></p>\n`
      : '';
  return `<form method="post" action="${esc(v.action)}" enctype="multipart/form-data">
${hidden}
${select}  <p><label>File (${esc(v.limits)}) <input type="file" name="file" required></label></p>
  <p><button type="submit">Upload</button></p>
</form>`;
}

export function formPage(v: FormView): string {
  return page('Upload a file', formElement(v));
}

export function messagePage(title: string, message: string, extra = ''): string {
  return page(title, `<p>${esc(message)}</p>${extra}`);
}

/** Rejection codes as a person reads them. */
const REASONS: Record<string, string> = {
  too_large: 'The file is larger than allowed.',
  too_small: 'The file is smaller than allowed.',
  size_mismatch: 'The file is not the size that was sent.',
  type_mismatch: 'The file’s contents are not of the type chosen.',
  type_not_allowed: 'Files of this type are not accepted here.',
  image_too_large: 'The image has more pixels than allowed.',
  image_unreadable: 'The image cannot be read.',
  metadata_mismatch: 'The file did not come from this form.',
  checksum_mismatch: 'The file changed on the way.',
};

export function outcomeText(state: string, reason: string | null): { title: string; message: string } {
  switch (state) {
    case 'verified':
    case 'approved':
      return { title: 'Uploaded', message: 'Your file was uploaded and checked.' };
    case 'pending_review':
      return { title: 'Uploaded', message: 'Your file was uploaded and is waiting for review.' };
    case 'rejected':
      return {
        title: 'File refused',
        message: `${(reason !== null && REASONS[reason]) || 'The file was refused.'} (${reason ?? 'rejected'})`,
      };
    default:
      return { title: 'Upload', message: `This upload is ${state}.` };
  }
}
