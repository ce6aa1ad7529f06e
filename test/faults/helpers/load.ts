// A bounded load of grant → upload → complete, as a careful client sends it: a refused or cut
// connection, a 502 from the balancer or a 503 from the gateway is retried (the grant asks again,
// the upload and the complete are idempotent); everything else is an answer. It counts what it
// sent, what was acknowledged and what it retried, and records every answer that breaks the
// contract (a 500; a 503 without the registry's `unavailable` code and a Retry-After).
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type GrantJson, upload } from '../../../packages/gateway/test/helpers/e2e.ts';
import { png } from '../../../packages/gateway/test/helpers/images.ts';
import type { Received } from '../../../packages/gateway/test/helpers/receiver.ts';

export interface Ack {
  id: string;
  user: string;
  md5: string;
}

type Step = 'grant' | 'upload' | 'complete';

export class Tally {
  /** HTTP requests sent, retries included. */
  sent = 0;
  retried = 0;
  /** Uploads storage answered 2xx for. */
  stored = 0;
  /** complete answered 200 `verified`. */
  acknowledged: Ack[] = [];
  /** 503 `unavailable` + Retry-After answers from the gateway (the database or storage down). */
  unavailable = 0;
  /** A grant answered 201 whose complete then said 404: the grant itself was not kept. */
  forgotten: string[] = [];
  /** When (performance.now()) each grant was answered 201, by upload id. */
  readonly grantedAt = new Map<string, number>();
  /** Storage answered 2xx for the bytes, and complete found nothing there. */
  storeLost: string[] = [];
  /** Complete answered 410: the grant's lifetime ran out while retrying. */
  expired = 0;
  /** Flows that ended otherwise (with the answer). */
  failed: string[] = [];
  /** Answers that break the contract. */
  violations: string[] = [];
  /** Answer kinds per step, e.g. `grant 503 unavailable`, `complete network`. */
  readonly seen = new Map<string, number>();

  note(step: Step, what: string): void {
    const k = `${step} ${what}`;
    this.seen.set(k, (this.seen.get(k) ?? 0) + 1);
  }

  /** Answers other than 2xx (retried or final) and network errors, e.g. `complete 503 unavailable ×12`. */
  otherAnswers(): string {
    return [...this.seen]
      .filter(([k]) => !/ (200|201|204)$/.test(k))
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
  }
}

/** Retries this long per step at most: the whole load stays bounded whatever happens. */
const STEP_DEADLINE_MS = 90_000;

/** Sends until an answer that is not "try again"; network errors and 502/503/504 (and 500s, recorded) are retried. */
async function send(tally: Tally, step: Step, request: () => Promise<Response>): Promise<Response> {
  const deadline = performance.now() + STEP_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    tally.sent++;
    let wait = Math.min(50 * attempt, 500);
    try {
      const res = await request();
      if (![500, 502, 503, 504].includes(res.status) || performance.now() > deadline) {
        tally.note(step, String(res.status));
        return res;
      }
      const text = await res.text();
      const json = res.headers.get('content-type')?.includes('application/json') ? safeJson(text) : undefined;
      const code = (json as { error?: { code?: string } } | undefined)?.error?.code;
      const retryAfter = res.headers.get('retry-after');
      if (res.status === 500) tally.violations.push(`${step} 500 ${text.slice(0, 200)}`);
      if (res.status === 503 && json !== undefined) {
        if (code !== 'unavailable' || retryAfter === null || !/^\d+$/.test(retryAfter))
          tally.violations.push(`${step} 503 code=${code} retry-after=${retryAfter}`);
        else tally.unavailable++;
      }
      tally.note(
        step,
        `${res.status}${code !== undefined ? ` ${code}` : json === undefined ? ' (balancer)' : ''}`,
      );
      if (retryAfter !== null) wait = Math.min(Number(retryAfter) * 1000, 2000);
    } catch (e) {
      if (performance.now() > deadline) throw e;
      tally.note(step, 'network');
    }
    tally.retried++;
    await sleep(wait);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface LoadOptions {
  api: string;
  token: (user: string) => Promise<string>;
  total: number;
  concurrency: number;
  users: number;
  label: string;
}

/** The bytes of flow i: PNGs for the POST route, plain text for the PUT route; every one differs. */
function body(i: number): { route: 'logo' | 'doc'; type: string; bytes: Buffer } {
  if (i % 2 === 0)
    return {
      route: 'logo',
      type: 'image/png',
      bytes: png(8 + (i % 40), 8 + (i % 30), 600 + ((i * 37) % 6000)),
    };
  const text = `${i} ${randomBytes(100 + ((i * 53) % 3000)).toString('hex')}\n`;
  return { route: 'doc', type: 'text/plain', bytes: Buffer.from(text) };
}

async function flow(i: number, o: LoadOptions, tally: Tally, tokens: Map<string, string>): Promise<void> {
  const user = `${o.label}-u${i % o.users}`;
  let token = tokens.get(user);
  if (token === undefined) {
    token = await o.token(user);
    tokens.set(user, token);
  }
  const auth = { authorization: `Bearer ${token}` };
  const { route, type, bytes } = body(i);
  const md5 = createHash('md5').update(bytes).digest('hex');
  const g = await send(tally, 'grant', () =>
    fetch(`${o.api}/v1/grants`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        route,
        filename: `f${i}.${route === 'logo' ? 'png' : 'txt'}`,
        contentType: type,
        size: bytes.length,
      }),
    }),
  );
  if (g.status !== 201) return void tally.failed.push(`grant ${g.status} ${await g.text()}`);
  const grant = (await g.json()) as GrantJson;
  tally.grantedAt.set(grant.id, performance.now());
  const u = await send(tally, 'upload', () => upload(grant, bytes));
  await u.body?.cancel();
  if (!u.ok) return void tally.failed.push(`upload ${u.status}`);
  tally.stored++;
  const c = await send(tally, 'complete', () =>
    fetch(`${o.api}/v1/uploads/${grant.id}/complete`, { method: 'POST', headers: auth }),
  );
  const answer = (await c.json().catch(() => ({}))) as { state?: string; reason?: string };
  if (c.status === 200 && answer.state === 'verified') tally.acknowledged.push({ id: grant.id, user, md5 });
  else if (c.status === 404) tally.forgotten.push(grant.id);
  else if (c.status === 409) tally.storeLost.push(grant.id);
  else if (c.status === 410) tally.expired++;
  else tally.failed.push(`complete ${c.status} ${JSON.stringify(answer)}`);
}

/** Runs `total` flows, `concurrency` at a time; `tally` fills in as it goes (kill triggers read it). */
export async function runLoad(o: LoadOptions, tally: Tally): Promise<void> {
  const tokens = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < o.total; i = next++) {
      try {
        await flow(i, o, tally, tokens);
      } catch (e) {
        tally.failed.push(`flow ${i}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
}

/** Resolves once `cond` holds (polled every 50 ms); rejects after `ms`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<number> {
  const started = performance.now();
  while (!(await cond())) {
    if (performance.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
  return performance.now() - started;
}

/** One row of the uploads table, as the checks read it. */
export interface UploadRow {
  id: string;
  state: string;
  file_key: string | null;
}

/**
 * Every acknowledged upload, after the faults: recorded `verified` with its frozen key
 * (files/{id}); the frozen object holds the bytes sent (MD5); and it is readable through the
 * gateway's download link. Returns what failed, one line per upload (empty: nothing lost).
 */
export async function checkAcknowledged(
  acks: readonly Ack[],
  rows: ReadonlyMap<string, UploadRow>,
  api: string,
  token: (user: string) => Promise<string>,
  s3: S3Client,
  bucket: string,
): Promise<string[]> {
  const lost: string[] = [];
  const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < acks.length; i = next++) {
      const a = acks[i]!;
      const row = rows.get(a.id);
      if (row?.state !== 'verified' || row.file_key !== `files/${a.id}`) {
        lost.push(`${a.id}: recorded ${row?.state ?? 'nowhere'}, file ${row?.file_key}`);
        continue;
      }
      try {
        const frozen = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: row.file_key }));
        const stored = md5(await frozen.Body!.transformToByteArray());
        const link = await fetch(`${api}/v1/files/${a.id}/download`, {
          headers: { authorization: `Bearer ${await token(a.user)}`, accept: 'application/json' },
        });
        const { url } = (await link.json()) as { url: string };
        const read = md5(new Uint8Array(await (await fetch(url)).arrayBuffer()));
        if (stored !== a.md5 || read !== a.md5)
          lost.push(`${a.id}: md5 frozen ${stored}, read ${read}, sent ${a.md5}`);
      } catch (e) {
        lost.push(`${a.id}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return lost;
}

/** States no sweeper or retry moves on from by itself: what "finished or expired" means here. */
export const OPEN_STATES = new Set(['granted', 'uploaded']);

/**
 * Webhooks for the recorded state changes: each `verified` upload's `upload.verified` and each
 * `expired` upload's `upload.expired` delivered with a valid signature. Returns what is missing
 * (empty: none), how many deliveries were duplicates (same webhook-id again: at least once) and
 * how many requests failed verification.
 */
export function missingWebhooks(
  rows: Iterable<UploadRow>,
  received: readonly Received[],
): { missing: string[]; duplicates: number; forged: number; events: number } {
  const byId = new Map<string, Received>();
  let duplicates = 0;
  let forged = 0;
  for (const r of received) {
    if (!r.verified) {
      forged++;
      continue;
    }
    const id = r.headers['webhook-id']!;
    if (byId.has(id)) duplicates++;
    else byId.set(id, r);
  }
  const got = new Set([...byId.values()].map((r) => `${r.json.type} ${(r.json.data as { id: string }).id}`));
  const missing: string[] = [];
  for (const row of rows) {
    const want =
      row.state === 'verified' ? 'upload.verified' : row.state === 'expired' ? 'upload.expired' : undefined;
    if (want !== undefined && !got.has(`${want} ${row.id}`)) missing.push(`${want} ${row.id}`);
  }
  return { missing, duplicates, forged, events: byId.size };
}
