// After the load and the faults: wait until nothing is open, then judge what the gateway kept.
// Every scenario asks the same questions; only how it reads the gateway's tables differs.
import { halfWritten } from '../../../packages/gateway/test/helpers/consistency.ts';
import type { Receiver } from '../../../packages/gateway/test/helpers/receiver.ts';
import { type Ack, checkAcknowledged, missingWebhooks, OPEN_STATES, type UploadRow, until } from './load.ts';
import { BUCKET, type Stack } from './stack.ts';

export interface Verdict {
  /** How long until nothing was left granted or uploaded (ms). */
  settledMs: number;
  final: Map<string, UploadRow>;
  /** Acknowledged uploads not verified, frozen and readable with their MD5 (must be empty). */
  lost: string[];
  hooks: ReturnType<typeof missingWebhooks>;
  /** Half-written changes found in the tables (must be empty). */
  broken: string[];
}

export async function settle(o: {
  stack: Stack;
  receiver: Receiver;
  acks: readonly Ack[];
  /** A query on the gateway's database, on a connection of the test's own. */
  query: <T>(sql: string) => Promise<T[]>;
  settleMs: number;
}): Promise<Verdict> {
  const rows = async () =>
    new Map(
      (await o.query<UploadRow>('SELECT id, state, file_key FROM uploads')).map((r) => [r.id, r] as const),
    );
  // Orphans (a grant whose answer died with an instance, a claim its completer took down with it)
  // are expired by the sweeper or finished by a retried complete, within the bound.
  const settledMs = await until(
    async () => [...(await rows()).values()].every((r) => !OPEN_STATES.has(r.state)),
    o.settleMs,
    'every upload finished or expired',
  );
  const final = await rows();
  const lost = await checkAcknowledged(
    o.acks,
    final,
    o.stack.api,
    (u) => o.stack.token(u),
    o.stack.s3(),
    BUCKET,
  );
  // Deliveries retry with backoff: give the last ones time before counting what is missing.
  await until(
    () => missingWebhooks(final.values(), o.receiver.received).missing.length === 0,
    30_000,
    'webhooks',
  ).catch(() => {});
  const hooks = missingWebhooks(final.values(), o.receiver.received);
  const broken = await halfWritten({ all: o.query });
  return { settledMs, final, lost, hooks, broken };
}
