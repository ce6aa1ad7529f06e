import type { StorageConfig } from '../storage/s3.ts';

/**
 * `chute doctor`: checks a deployment the way a newcomer needs it checked. Each check is a small
 * function of a DoctorContext that answers with one or more CheckResults; none of them throws
 * (a failure to reach something is itself the finding).
 */

/** `skip`: the check does not apply (nothing configured) or needs another that failed first. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was seen, in a sentence. */
  detail: string;
  /** What to do about it (warn/fail only). */
  fix?: string;
}

export interface WebhookTarget {
  id?: string;
  url: string;
}

/** What the doctor checks, taken from the gateway's config (or `chute dev`'s defaults). */
export interface DoctorInput {
  storage: StorageConfig;
  /** Browser origins whose pages upload straight to the bucket (its CORS rule must allow them). */
  origins: readonly string[];
  database: { url: string; schema?: string };
  /** Webhook endpoints to probe; empty: the check is skipped. */
  webhooks: readonly WebhookTarget[];
}

export interface DoctorOptions {
  /** This machine's clock (injected in tests); also the time requests are signed with. */
  now?: () => number;
  fetch?: typeof fetch;
  /** Per request, ms (default 10 s). */
  timeoutMs?: number;
}

export interface DoctorContext extends DoctorInput {
  now: () => number;
  fetch: typeof fetch;
  timeoutMs: number;
}

export type Check = (ctx: DoctorContext) => Promise<CheckResult | CheckResult[]>;

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'warn',
  detail,
  fix,
});
export const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});
export const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });
