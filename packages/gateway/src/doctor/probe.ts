import { randomBase62 } from '../domain/ids.ts';
import { S3Storage } from '../storage/s3.ts';
import type { PostForm } from '../storage/types.ts';
import { parseError } from '../storage/xml.ts';
import { networkReason } from './request.ts';
import type { CheckResult, DoctorContext } from './types.ts';

/**
 * Plumbing shared by the enforcement probes: each writes under `doctor/` with a random key,
 * through the gateway's own storage layer (S3Storage signs the URL and the form exactly as it
 * does for grants), and deletes whatever got stored, whatever the outcome.
 */

/** Grants are signed for the public endpoint; the probes go to the one this machine reaches. */
export function probeStorage(ctx: DoctorContext): S3Storage {
  const { publicEndpoint: _, ...storage } = ctx.storage;
  return new S3Storage(storage, { fetch: ctx.fetch, attempts: 1, timeoutMs: ctx.timeoutMs });
}

export const probeKey = (): string => `doctor/${randomBase62(20)}`;

/** A probe's body: `n` bytes of text. */
export const payload = (n: number): Buffer => Buffer.alloc(n, 'chute doctor probe\n');

export interface Answer {
  status: number;
  /** "204", or "403 AccessDenied: Invalid according to Policy: …" */
  said: string;
}

async function answerOf(res: Response): Promise<Answer> {
  const e = parseError(await res.text());
  const said = e ? `${res.status} ${e.code}${e.message ? `: ${e.message}` : ''}` : String(res.status);
  return { status: res.status, said };
}

/** No answer at all is an answer too: the probe reports it rather than throwing. */
async function send(ctx: DoctorContext, url: string, init: RequestInit): Promise<Answer> {
  try {
    return await answerOf(
      await ctx.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(ctx.timeoutMs) }),
    );
  } catch (e) {
    return { status: 0, said: `no answer (${networkReason(e)})` };
  }
}

/** A browser's form upload: the grant's fields in order, `extra` fields after them, the file last. */
export function postFile(
  ctx: DoctorContext,
  form: PostForm,
  body: Buffer,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const data = new FormData();
  for (const [k, v] of Object.entries({ ...form.fields, ...extra })) data.append(k, v);
  data.append('file', new Blob([new Uint8Array(body)], { type: 'text/plain' }), 'probe.txt');
  return send(ctx, form.url, { method: 'POST', body: data });
}

export function putFile(
  ctx: DoctorContext,
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<Answer> {
  return send(ctx, url, { method: 'PUT', body: new Uint8Array(body), headers });
}

export const ok = (a: Answer): boolean => a.status >= 200 && a.status < 300;

/**
 * Deletes the probe's keys: the size of each that was stored (a refusal that still kept the object
 * is a hole of its own), and the keys it could not delete, with why.
 */
async function cleanUp(
  s3: S3Storage,
  keys: readonly string[],
): Promise<{ stored: Map<string, number>; undeleted: string[] }> {
  const stored = new Map<string, number>();
  const undeleted: string[] = [];
  for (const key of keys) {
    try {
      const head = await s3.head(key);
      if (head !== undefined) {
        stored.set(key, head.size);
        await s3.delete(key);
      }
    } catch (e) {
      undeleted.push(`${key} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return { stored, undeleted };
}

export interface Probe {
  name: string;
  /** The valid request: it must be accepted, or the probe proves nothing. */
  control: { what: string; send: (s3: S3Storage, key: string) => Promise<Answer> };
  /** The request storage must refuse, and the hole if it does not. */
  violation: { what: string; hole: string; send: (s3: S3Storage, key: string) => Promise<Answer> };
}

/** The control to one key, the violation to another, then both keys deleted whatever happened. */
export async function runProbe(ctx: DoctorContext, probe: Probe): Promise<CheckResult> {
  const s3 = probeStorage(ctx);
  const within = probeKey();
  const over = probeKey();
  const control = await probe.control.send(s3, within);
  const answer = ok(control) ? await probe.violation.send(s3, over) : undefined;
  const { stored, undeleted } = await cleanUp(s3, [within, over]);
  const result =
    answer === undefined
      ? controlFailed(probe.name, probe.control.what, control)
      : judge(probe.name, { ...probe.violation, answer, stored: stored.get(over) });
  if (undeleted.length === 0) return result;
  return {
    ...result,
    status: result.status === 'fail' ? 'fail' : 'warn',
    detail: `${result.detail}; could not delete ${undeleted.join(', ')}`,
    fix: `${result.fix ? `${result.fix}; ` : ''}delete what is left under doctor/ (the key needs s3:DeleteObject)`,
  };
}

const NOT_ENFORCED =
  'this store does not enforce what grants are signed for: use one that does (chute s3, AWS S3, Ceph RGW, MinIO)';

export interface Verdict {
  /** The request that must be refused, e.g. "a 17-byte file under content-length-range 1..16". */
  what: string;
  /** What it means if it is not: the hole, in a sentence. */
  hole: string;
  answer: Answer;
  /** Size of what the store kept under the probe's key, if anything. */
  stored: number | undefined;
}

/**
 * Refused means a 4xx and nothing stored. Accepted (2xx) is the hole. A 5xx or a dropped
 * connection that kept nothing is no clear refusal: a warning.
 */
function judge(name: string, v: Verdict): CheckResult {
  const kept = v.stored === undefined ? '' : `; it stored ${v.stored} bytes (deleted again)`;
  if (ok(v.answer))
    return {
      name,
      status: 'fail',
      detail: `accepted ${v.what} (${v.answer.said})${kept}: ${v.hole}`,
      fix: NOT_ENFORCED,
    };
  if (v.stored !== undefined)
    return {
      name,
      status: 'fail',
      detail: `refused ${v.what} (${v.answer.said}) but stored it anyway${kept}: ${v.hole}`,
      fix: NOT_ENFORCED,
    };
  if (v.answer.status >= 400 && v.answer.status < 500)
    return { name, status: 'pass', detail: `refused ${v.what} (${v.answer.said})` };
  return {
    name,
    status: 'warn',
    detail: `${v.what}: ${v.answer.said}, nothing stored, but not a clear refusal (S3 answers 4xx)`,
    fix: 'look at the store’s log for this request',
  };
}

/** The valid request before the probe was refused: the probe would prove nothing. */
function controlFailed(name: string, what: string, answer: Answer): CheckResult {
  return {
    name,
    status: 'fail',
    detail: `${what} was refused (${answer.said}), so enforcement cannot be judged`,
    fix: 'fix the credentials and clock checks first; the store must accept browser uploads (POST forms, presigned PUTs)',
  };
}
