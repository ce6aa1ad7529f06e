/**
 * Every default of the gateway's config, in one place. The schema refers to these; nothing else
 * invents a default. Sizes and durations are strings with units, as a user would write them.
 */
export const DEFAULTS = {
  listen: { host: '127.0.0.1', port: 3000 },
  /** Browser origins allowed to call /v1 (a web app whose frontend asks for grants itself). */
  cors: { origins: [] as string[], maxAgeSec: 600 },
  storage: { region: 'us-east-1', forcePathStyle: true },
  database: { url: 'sqlite:.chute/chute.db' },
  jwt: { rolesClaim: 'roles', clockToleranceSec: 5 },
  quotas: {
    /** Grants not yet completed (and not expired) per user. */
    pendingGrants: 20,
    /** Declared bytes granted per user over the last 24 hours (rejected and expired ones released). */
    bytesPerDay: '1GB',
    grantsPerMinute: 60,
  },
  sweeper: {
    intervalMs: 60_000,
    /**
     * How long after a grant's expiry the sweeper waits before expiring it and deleting its
     * object: a PUT that started just before expiry may still be streaming.
     */
    graceMs: 5 * 60_000,
    /**
     * An `uploaded` claim (a complete verifying the file) not touched for this long belongs to a
     * completer that died mid-way (its instance killed, the database gone before the claim was
     * handed back): the sweeper hands it back to `granted`, so a retried complete runs again. A
     * live completer touches its claim every quarter of this, however long its copy takes.
     */
    claimTimeoutMs: 2 * 60_000,
  },
  proxy: {
    /** Declared bytes of proxied uploads in flight at once per instance (memory stays flat anyway). */
    maxInFlight: '256MiB',
  },
  webhooks: {
    /** Per delivery attempt. */
    timeout: '10s',
    /** After the first attempt fails: 7 attempts over ~18 h (±20 % jitter each), then dead-letter. */
    retrySchedule: ['5s', '5m', '30m', '2h', '5h', '10h'],
    interval: '1s',
    concurrency: 8,
  },
} as const;
