import { checkClock } from './clock.ts';
import { checkCors } from './cors.ts';
import { checkCredentials } from './credentials.ts';
import { checkDatabase } from './database.ts';
import { checkPostFields } from './enforce-post-fields.ts';
import { checkPostSize } from './enforce-post-size.ts';
import { checkPutLength } from './enforce-put-length.ts';
import { checkSignature } from './enforce-signature.ts';
import {
  type Check,
  type CheckResult,
  type DoctorContext,
  type DoctorInput,
  type DoctorOptions,
  skip,
} from './types.ts';
import { checkWebhooks } from './webhooks.ts';

/** Checks that talk to the bucket with the credentials: pointless (and noisy) when those fail. */
const NEEDS_CREDENTIALS: ReadonlyArray<[string, Check]> = [
  ['bucket-cors', checkCors],
  ['enforce-signature', checkSignature],
  ['enforce-post-size', checkPostSize],
  ['enforce-put-length', checkPutLength],
  ['enforce-unsigned-field', checkPostFields],
];

/** Every check, in the order a newcomer fixes things; one result (or more) each. */
export async function runDoctor(input: DoctorInput, options: DoctorOptions = {}): Promise<CheckResult[]> {
  const ctx: DoctorContext = {
    ...input,
    now: options.now ?? Date.now,
    fetch: options.fetch ?? fetch,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const results: CheckResult[] = [];
  const credentials = await checkCredentials(ctx);
  results.push(credentials, await checkClock(ctx));
  for (const [name, check] of NEEDS_CREDENTIALS) {
    results.push(
      ...(credentials.status === 'fail'
        ? [skip(name, 'not run: the credentials check failed')]
        : [await check(ctx)].flat()),
    );
  }
  results.push(await checkDatabase(ctx), ...(await checkWebhooks(ctx)));
  return results;
}

/** Exit code 1 on any FAIL. */
export const doctorFailed = (results: readonly CheckResult[]): boolean =>
  results.some((r) => r.status === 'fail');

/** One line per check: `PASS  name  — detail / fix: …`. */
export function formatResults(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  return results
    .map((r) => {
      const fix = r.fix === undefined ? '' : ` / fix: ${r.fix}`;
      return `${r.status.toUpperCase()}  ${r.name.padEnd(width)}  — ${r.detail}${fix}`;
    })
    .join('\n');
}
