import type { Condition } from './post-conditions.ts';
import type { RouteRule } from './rule.ts';

export interface FormInput {
  bucket: string;
  key: string;
  uploadId: string;
  userId: string;
  /** The gateway's signed redirect target (form/links.ts doneLink). */
  redirect: string;
  /** The one type the form sends (a hidden field), or undefined: the user picks from a list. */
  contentType: string | undefined;
}

/**
 * POST policy conditions of the no-JS form. A form without script cannot declare the file's size
 * or type before it is chosen, so two conditions differ from an API grant's (post-conditions.ts):
 *
 * - content-length-range is the route's min..max (the grant reserved maxSize of the quota);
 *   complete then holds the stored size to it.
 * - Content-Type is `eq` when the route has one type; otherwise `starts-with ""` and the page
 *   offers the route's types in a <select>. The value is not trusted: /form/done takes it as
 *   declared only when the route allows it, and verify holds the bytes to it (magic numbers).
 *
 * success_action_redirect `eq` the gateway's signed done link: S3 then answers 303 to it "with
 * bucket, key, and etag values as query string parameters", and no other destination can be
 * slipped into the form (open redirect).
 */
export function formConditions(rule: RouteRule, input: FormInput): Condition[] {
  const conditions: Condition[] = [
    { bucket: input.bucket },
    ['eq', '$key', input.key],
    input.contentType !== undefined
      ? ['eq', '$Content-Type', input.contentType]
      : ['starts-with', '$Content-Type', ''],
    ['eq', '$x-amz-meta-upload-id', input.uploadId],
    ['eq', '$x-amz-meta-user-id', input.userId],
  ];
  for (const [k, v] of Object.entries(rule.metadata)) conditions.push(['eq', `$x-amz-meta-${k}`, v]);
  conditions.push(['eq', '$success_action_redirect', input.redirect]);
  conditions.push(['content-length-range', rule.minSize, rule.maxSize]);
  return conditions;
}

/** Exact types a user can pick from (wildcards like `image/*` are offered as their usual members). */
export function formTypes(rule: RouteRule): string[] {
  const common: Record<string, string[]> = {
    image: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif'],
    text: ['text/plain', 'text/csv', 'text/markdown'],
    audio: ['audio/mpeg', 'audio/ogg', 'audio/wav'],
    video: ['video/mp4', 'video/webm'],
  };
  const out: string[] = [];
  for (const t of rule.types) {
    const [top, sub] = t.split('/');
    for (const x of sub === '*' ? (common[top ?? ''] ?? []) : [t]) if (!out.includes(x)) out.push(x);
  }
  return out;
}
