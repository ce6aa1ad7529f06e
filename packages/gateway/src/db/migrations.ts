/**
 * The schema, as numbered migrations run in order, once each. Never edit a released migration:
 * add the next number. The SQL is shared by SQLite and PostgreSQL (BIGINT has integer affinity
 * in SQLite); a migration that cannot be shared gives `sql` per dialect.
 *
 * Times are epoch milliseconds (BIGINT). Ids are text chosen by the gateway (`up_…`, `ev_…`), so
 * no dialect-specific auto-increment is needed.
 */
import type { Dialect } from './driver.ts';
import { GRANT_BATCH_V7 } from './grant-batch.sql.ts';
import { PENDING_INDEX_V8 } from './pending-index.sql.ts';
import { QUOTA_COUNTERS } from './quota-counters.sql.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string | Record<Dialect, string>;
}

/** Migration 4's statements that both engines run as written (after their own uploads changes). */
const V4_SHARED = `
-- the review queue: pending_review, oldest verified first
CREATE INDEX uploads_state_completed ON uploads (state, completed_at, id);
-- the sweeper: rejected files whose retention ran out
CREATE INDEX uploads_purge ON uploads (purge_at) WHERE purge_at IS NOT NULL AND purged_at IS NULL;

-- Every state change of every upload, with who made it and in which request. Written in the
-- same transaction as the change; never updated or deleted (the triggers refuse it).
CREATE TABLE audit (
  id         TEXT PRIMARY KEY,
  upload_id  TEXT NOT NULL,
  at         BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  action     TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  request_id TEXT,
  detail     TEXT
);
CREATE INDEX audit_upload ON audit (upload_id, at, id);
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'uploads, quota locks, events outbox',
    sql: `
CREATE TABLE uploads (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  route         TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN
                  ('granted', 'uploaded', 'verified', 'pending_review', 'approved', 'rejected', 'expired')),
  method        TEXT NOT NULL CHECK (method IN ('post', 'put', 'multipart')),
  incoming_key  TEXT NOT NULL,
  file_key      TEXT,
  filename      TEXT NOT NULL,
  declared_type TEXT NOT NULL,
  declared_size BIGINT NOT NULL,
  checksum      TEXT,
  detected_type TEXT,
  size          BIGINT,
  width         INTEGER,
  height        INTEGER,
  reason        TEXT,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL,
  completed_at  BIGINT,
  updated_at    BIGINT NOT NULL
);
-- a user's uploads, newest first, and the quota windows (created_at > now - 1 day / 1 minute)
CREATE INDEX uploads_user_created ON uploads (user_id, created_at, id);
-- everyone's uploads, newest first (admin, review queue filtered by state)
CREATE INDEX uploads_state_created ON uploads (state, created_at, id);
CREATE INDEX uploads_created ON uploads (created_at, id);
-- the sweeper: granted and past expires_at
CREATE INDEX uploads_state_expires ON uploads (state, expires_at);

-- One row per user, upserted at the start of every grant transaction: the row lock serialises
-- concurrent grants of one user in PostgreSQL (SQLite serialises all writers anyway), so the
-- quota counts read next cannot be stale.
CREATE TABLE quota_locks (
  user_id    TEXT PRIMARY KEY,
  touched_at BIGINT NOT NULL
);

-- Transactional outbox: an event is written in the same transaction as the state change it
-- reports, and delivered (webhooks) later, with retries.
CREATE TABLE events (
  id              TEXT PRIMARY KEY,
  type            TEXT NOT NULL,
  upload_id       TEXT,
  payload         TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  delivered_at    BIGINT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL
);
CREATE INDEX events_undelivered ON events (delivered_at, next_attempt_at);
`,
  },
  {
    version: 2,
    name: 'covering index for the quota query',
    // The quota query (quota.ts) reads state, expires_at and declared_size of a user's last 24 h
    // of rows on every grant: with them in the index it never touches the table. The index also
    // serves a user's listing (user_id, created_at, id), so it replaces uploads_user_created.
    sql: `
CREATE INDEX uploads_user_quota ON uploads (user_id, created_at, id, state, expires_at, declared_size);
DROP INDEX uploads_user_created;
`,
  },
  {
    version: 3,
    name: 'the rule each grant was signed under',
    // complete judges an upload by the rule its grant was signed for, not by the config of the
    // moment (a route changed or removed in between must not change the verdict). Rules are
    // stored once each, by fingerprint (rules/fingerprint.ts); a grant records the fingerprint.
    // Rows made before this migration have none and are judged by the config, as they were.
    sql: `
CREATE TABLE rules (
  hash       TEXT PRIMARY KEY,
  route      TEXT NOT NULL,
  rule       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
ALTER TABLE uploads ADD COLUMN rule_hash TEXT;
`,
  },
  {
    version: 4,
    name: 'review, publication, withdrawal, multipart, audit trail',
    // Review decisions and publication live on the upload row; every state change also appends a
    // row to `audit`, which triggers keep append-only. `withdrawn` joins the states: SQLite
    // cannot change a CHECK constraint in place, so it rebuilds the table as its ALTER TABLE
    // documentation prescribes (create the new table, copy, drop, rename, re-create the indexes), PostgreSQL swaps the constraint.
    sql: {
      sqlite: `
CREATE TABLE uploads_v4 (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  route         TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN
                  ('granted', 'uploaded', 'verified', 'pending_review', 'approved', 'rejected', 'expired', 'withdrawn')),
  method        TEXT NOT NULL CHECK (method IN ('post', 'put', 'multipart')),
  incoming_key  TEXT NOT NULL,
  file_key      TEXT,
  filename      TEXT NOT NULL,
  declared_type TEXT NOT NULL,
  declared_size BIGINT NOT NULL,
  checksum      TEXT,
  detected_type TEXT,
  size          BIGINT,
  width         INTEGER,
  height        INTEGER,
  reason        TEXT,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL,
  completed_at  BIGINT,
  updated_at    BIGINT NOT NULL,
  rule_hash     TEXT,
  previous_state TEXT,
  reviewed_by   TEXT,
  reviewed_at   BIGINT,
  review_reason TEXT,
  review_note   TEXT,
  published_key TEXT,
  published_at  BIGINT,
  retired_at    BIGINT,
  purge_at      BIGINT,
  purged_at     BIGINT,
  multipart_id  TEXT,
  part_size     BIGINT
);
INSERT INTO uploads_v4 (id, user_id, route, state, method, incoming_key, file_key, filename, declared_type, declared_size, checksum, detected_type, size, width, height, reason, created_at, expires_at, completed_at, updated_at, rule_hash) SELECT id, user_id, route, state, method, incoming_key, file_key, filename, declared_type, declared_size, checksum, detected_type, size, width, height, reason, created_at, expires_at, completed_at, updated_at, rule_hash FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_v4 RENAME TO uploads;
CREATE INDEX uploads_user_quota ON uploads (user_id, created_at, id, state, expires_at, declared_size);
CREATE INDEX uploads_state_created ON uploads (state, created_at, id);
CREATE INDEX uploads_created ON uploads (created_at, id);
CREATE INDEX uploads_state_expires ON uploads (state, expires_at);
${V4_SHARED}
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
`,
      postgres: `
ALTER TABLE uploads DROP CONSTRAINT uploads_state_check;
ALTER TABLE uploads ADD CONSTRAINT uploads_state_check CHECK (state IN
  ('granted', 'uploaded', 'verified', 'pending_review', 'approved', 'rejected', 'expired', 'withdrawn'));
ALTER TABLE uploads
  ADD COLUMN previous_state TEXT,
  ADD COLUMN reviewed_by TEXT,
  ADD COLUMN reviewed_at BIGINT,
  ADD COLUMN review_reason TEXT,
  ADD COLUMN review_note TEXT,
  ADD COLUMN published_key TEXT,
  ADD COLUMN published_at BIGINT,
  ADD COLUMN retired_at BIGINT,
  ADD COLUMN purge_at BIGINT,
  ADD COLUMN purged_at BIGINT,
  ADD COLUMN multipart_id TEXT,
  ADD COLUMN part_size BIGINT;
${V4_SHARED}
CREATE FUNCTION chute_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION chute_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION chute_audit_append_only();
`,
    },
  },
  {
    version: 5,
    name: 'webhook deliveries',
    sql: { sqlite: webhooks(''), postgres: webhooks(' COLLATE "C"') },
  },
  {
    version: 6,
    name: 'quota counters (PostgreSQL)',
    // PostgreSQL keeps each user's quota usage in a counter row (quota-counters.sql.ts says how
    // and why); the row also takes over quota_locks' job as the lock that serialises a user's
    // grants. quota_locks is dropped on both engines: SQLite never needed it (one writer), and a
    // gateway of the previous version still running against PostgreSQL must fail its grants
    // rather than take a lock the new ones no longer take (it could over-admit).
    sql: { sqlite: 'DROP TABLE quota_locks;', postgres: `DROP TABLE quota_locks;\n${QUOTA_COUNTERS}` },
  },
  {
    version: 7,
    name: 'grant batch with cached plans (PostgreSQL)',
    // PostgreSQL: chute_grant_batch keeps its plans, and the review queue's index leaves out
    // granted rows so that no cached plan can count a window through it (grant-batch.sql.ts).
    // SQLite plans its own statements (and could not use that partial index for the queue's
    // `state IN (…)`), so it changes nothing.
    sql: { sqlite: 'SELECT 1;', postgres: GRANT_BATCH_V7 },
  },
  {
    version: 8,
    name: 'grant batch usage read with a cached plan (PostgreSQL)',
    // PostgreSQL: the usage read is no longer planned on every call; the pending window's index
    // gets a predicate only that window's queries spell, so no cached plan can count it through
    // an index that leads with state (pending-index.sql.ts). SQLite changes nothing.
    sql: { sqlite: 'SELECT 1;', postgres: PENDING_INDEX_V8 },
  },
];

/**
 * Webhooks: one delivery row per (event, endpoint), made by the dispatcher when it fans an event
 * out (events.fanned_out_at), so the write path of a state change stays one INSERT. Of one
 * upload's deliveries to one endpoint, only the oldest open one is `pending` (due at
 * next_attempt_at); the later ones are `waiting` until it is delivered or dead; the per-event
 * columns of migration 1 (delivered_at, attempts, next_attempt_at) move to the deliveries.
 * Events of one upload are delivered in event-id order, so ids compare bytewise on PostgreSQL too
 * (`collate`: its default collations ignore case, and ids are base62). Events from before this
 * migration are marked fanned out: no endpoint could have subscribed to them.
 */
function webhooks(collate: string): string {
  return `
DROP INDEX events_undelivered;
ALTER TABLE events DROP COLUMN delivered_at;
ALTER TABLE events DROP COLUMN attempts;
ALTER TABLE events DROP COLUMN next_attempt_at;
ALTER TABLE events ADD COLUMN fanned_out_at BIGINT;
UPDATE events SET fanned_out_at = created_at;
${collate ? `ALTER TABLE events ALTER COLUMN id TYPE TEXT${collate};` : ''}
CREATE INDEX events_not_fanned_out ON events (id) WHERE fanned_out_at IS NULL;
CREATE INDEX events_upload ON events (upload_id, id);

CREATE TABLE deliveries (
  event_id        TEXT${collate} NOT NULL,
  endpoint_id     TEXT NOT NULL,
  upload_id       TEXT,
  state           TEXT NOT NULL CHECK (state IN ('waiting', 'pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      BIGINT NOT NULL,
  delivered_at    BIGINT,
  dead_at         BIGINT,
  PRIMARY KEY (event_id, endpoint_id)
);
-- an endpoint's due deliveries, soonest first; partial, so delivered rows (the many) cost nothing
CREATE INDEX deliveries_due ON deliveries (endpoint_id, next_attempt_at, event_id) WHERE state = 'pending';
-- order per upload: is one of its deliveries to this endpoint still open; the next one waiting
CREATE INDEX deliveries_upload ON deliveries (upload_id, endpoint_id, state, event_id);
-- the outbox metrics (count and oldest of the open ones), retiring an endpoint's open ones
CREATE INDEX deliveries_state ON deliveries (state, endpoint_id, created_at);

-- An endpoint that answered 410 Gone, with the URL it had: a new URL under the same id enables it again.
CREATE TABLE webhook_endpoints (
  id          TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  disabled_at BIGINT NOT NULL,
  reason      TEXT NOT NULL
);
`;
}
