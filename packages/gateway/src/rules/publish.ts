import { isUploadId, isUserId } from '../domain/ids.ts';

/** Where a route publishes approved files (or, without review, verified ones). */
export interface PublishRule {
  /**
   * A key template: `{route}`, `{userId}`, `{uploadId}` and literal text. With `{uploadId}` every
   * file gets its own key; without, the key is the user's one current file (keepOne).
   */
  readonly key: string;
  /** Keep one published file per user: publishing a new one retires the one before. */
  readonly keepOne: boolean;
}

export interface PublishOptions {
  key?: string;
  keepOne?: boolean;
}

export const DEFAULT_PUBLISH_KEY = 'published/{route}/{userId}/{uploadId}';

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const KNOWN = new Set(['route', 'userId', 'uploadId']);
/** Literal parts: what S3 lists as safe key characters, and '/'. */
const LITERAL = /^[A-Za-z0-9/._-]*$/;
/** Prefixes the gateway's own keys use; publishing there would overwrite uploads or frozen files. */
const OWN_PREFIXES = ['incoming/', 'files/'];

/**
 * Checks a route's publish options and fills in the defaults. Every key is scoped per user (the
 * template must name `{userId}`), so one user's approval can never overwrite another's file; a
 * template without `{uploadId}` names one file per user, so it needs keepOne.
 */
export function publishRule(where: string, options: PublishOptions = {}): PublishRule {
  const key = options.key ?? DEFAULT_PUBLISH_KEY;
  const keepOne = options.keepOne ?? false;
  const names = [...key.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  for (const n of names) {
    if (!KNOWN.has(n)) throw new TypeError(`${where}: publish key: unknown placeholder {${n}}`);
  }
  const literal = key.replace(PLACEHOLDER, '');
  if (!LITERAL.test(literal)) {
    throw new TypeError(`${where}: publish key: use only A–Z a–z 0–9 / . _ - besides placeholders`);
  }
  if (
    key.length > 512 ||
    key.startsWith('/') ||
    key.endsWith('/') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new TypeError(`${where}: publish key must be a relative key without empty, . or .. segments`);
  }
  if (OWN_PREFIXES.some((p) => key.startsWith(p))) {
    throw new TypeError(
      `${where}: publish key must not start with ${OWN_PREFIXES.join(' or ')} (the gateway's own keys)`,
    );
  }
  if (!names.includes('userId')) throw new TypeError(`${where}: publish key must contain {userId}`);
  if (!names.includes('uploadId') && !keepOne) {
    throw new TypeError(`${where}: a publish key without {uploadId} holds one file per user: set keepOne`);
  }
  return Object.freeze({ key, keepOne });
}

/** The key an upload is published at. Its parts are checked again: no input reaches a key unchecked. */
export function publishedKey(
  rule: PublishRule,
  parts: { route: string; userId: string; uploadId: string },
): string {
  if (!isUserId(parts.userId) || !isUploadId(parts.uploadId)) throw new TypeError('unsafe key part');
  return rule.key.replace(PLACEHOLDER, (_, n: string) => parts[n as keyof typeof parts]);
}
