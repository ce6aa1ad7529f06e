/**
 * PostgreSQL's quota usage, kept in one counter row per user (migration 6) instead of being
 * aggregated from a day of the user's uploads on every grant batch, which cost a scan that grew
 * with how much the user uploads in a day (the covering index did not help once rows were new
 * and not yet all-visible). The figures stay exactly those quota.ts defines (`readUsages` stays
 * the definition, and a test compares the two after every step of a random walk).
 *
 * Each window is a count over the user's rows beyond a watermark:
 *   recent  = rows with created_at > recent_from                              (the minute's grants)
 *   bytes   = declared_size of rows with created_at > bytes_from, not released (the day's bytes)
 *   pending = rows in state granted with expires_at > pending_from            (uploads in progress)
 * Every write to `uploads` keeps that true by itself, through triggers (an INSERT adds the new
 * rows, an UPDATE the difference, a DELETE takes its rows away), each against the watermarks of
 * the moment under the counter row's lock. Reading usage at `now` first moves the watermarks up
 * to now − 1 min, now − 24 h and now, taking away what the rows between the old and the new
 * watermark counted: only the rows that left a window since the last read, found by index.
 * Watermarks never move back: an instance whose clock is behind another's reads the windows as
 * of the latest clock any instance read at (a step back of the clock does not bring old grants
 * back into a window).
 *
 * The counter row is also the lock: chute_quota_read takes the batch's users' rows FOR UPDATE,
 * in user order (so two batches sharing users wait instead of deadlocking), and then reads in a
 * statement of its own — a VOLATILE function's statements each take a fresh snapshot under READ
 * COMMITTED, so it sees every grant and transition committed before it got the locks.
 */
import {
  GRANT_BATCH_ADMIT,
  GRANT_BATCH_HEAD,
  GRANT_BATCH_WRITE,
  probeLoop,
} from './grant-batch-steps.sql.ts';
import { DAY, MINUTE } from './quota.ts';

/** Below any epoch-ms time: a new user's windows start empty and count every row. */
const ORIGIN = '-9007199254740991';

export const QUOTA_COUNTERS = `
CREATE TABLE quota_usage (
  user_id      TEXT PRIMARY KEY,
  recent_from  BIGINT NOT NULL DEFAULT ${ORIGIN},
  recent       BIGINT NOT NULL DEFAULT 0,
  bytes_from   BIGINT NOT NULL DEFAULT ${ORIGIN},
  bytes        BIGINT NOT NULL DEFAULT 0,
  pending_from BIGINT NOT NULL DEFAULT ${ORIGIN},
  pending      BIGINT NOT NULL DEFAULT 0
);

-- the pending window: a user's granted rows by deadline (the rows leaving it, the first to expire)
CREATE INDEX uploads_user_pending ON uploads (user_id, expires_at) WHERE state = 'granted';

-- Whose declared bytes count against the day (quota.ts: all but rejected, expired, withdrawn).
CREATE FUNCTION chute_quota_counts_bytes(state TEXT) RETURNS BOOLEAN
  LANGUAGE sql IMMUTABLE AS $$ SELECT state NOT IN ('rejected', 'expired', 'withdrawn') $$;

-- Upgrade: every user with uploads gets their row, counted at the database's clock.
INSERT INTO quota_usage (user_id, recent_from, recent, bytes_from, bytes, pending_from, pending)
SELECT u.user_id,
       t.now - ${MINUTE}, count(*) FILTER (WHERE u.created_at > t.now - ${MINUTE}),
       t.now - ${DAY}, coalesce(sum(u.declared_size) FILTER (WHERE u.created_at > t.now - ${DAY}
                                   AND chute_quota_counts_bytes(u.state)), 0),
       t.now, count(*) FILTER (WHERE u.state = 'granted' AND u.expires_at > t.now)
FROM uploads u, (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT AS now) t
GROUP BY u.user_id, t.now;

${quotaRead('CREATE FUNCTION', "u.state = 'granted'")}
-- A whole group-commit batch of grants in one statement, so in one round trip and its own
-- transaction (grant-batch.ts). Returns {"usage": {user: usage before the batch}, "admitted": [n…]}.
-- 1. Lock the users' counter rows in user order (made if new).
-- 2. In a statement of its own (fresh snapshot, after the locks): their usage with the windows
--    moved to p_now, as chute_quota_read computes it, not written yet.
-- 3. Admit each grant in order as quota.ts enforceQuota does (the caller replays the decisions
--    with enforceQuota itself, and refuses with its error); for the users refused, the oldest
--    entry of each window (Retry-After), read before this batch's rows exist.
-- 4. Insert the admitted grants and their audit rows, and write each counter row once: moved
--    windows plus what the new rows count in them (what the INSERT trigger would add, which a
--    transaction-local setting tells it not to: one row version per user and batch, not two).
CREATE FUNCTION chute_grant_batch(p_batch TEXT, p_now BIGINT) RETURNS TEXT
${GRANT_BATCH_HEAD}
  -- Planned on each call (EXECUTE): a plan cached while the tables were small counted the pending
  -- edge through uploads_state_completed, every granted row of every user, so a batch's cost grew
  -- with the table. So are the refusals' probes below; the other statements keep cached plans.
${GRANT_BATCH_ADMIT}
${probeLoop("u.state = 'granted'")}
${GRANT_BATCH_WRITE}
-- New rows, one UPDATE per statement.
CREATE FUNCTION chute_quota_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- chute_grant_batch counts its own rows (in the same write as its windows' move).
  IF current_setting('chute.quota_counted', true) = 'on' THEN RETURN NULL; END IF;
  INSERT INTO quota_usage (user_id) SELECT DISTINCT n.user_id FROM new_rows n ORDER BY 1 ON CONFLICT DO NOTHING;
  UPDATE quota_usage q SET
    recent = q.recent + (SELECT count(*) FROM new_rows n WHERE n.user_id = q.user_id
                           AND n.created_at > q.recent_from),
    bytes = q.bytes + (SELECT coalesce(sum(n.declared_size), 0) FROM new_rows n WHERE n.user_id = q.user_id
                         AND n.created_at > q.bytes_from AND chute_quota_counts_bytes(n.state)),
    pending = q.pending + (SELECT count(*) FROM new_rows n WHERE n.user_id = q.user_id
                             AND n.state = 'granted' AND n.expires_at > q.pending_from)
  WHERE q.user_id IN (SELECT n.user_id FROM new_rows n);
  RETURN NULL;
END $$;
CREATE TRIGGER uploads_quota_insert AFTER INSERT ON uploads REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chute_quota_inserted();

-- A changed or deleted row: what it counted goes, what it counts now comes (transitions are one
-- row each). Each side is judged against the watermarks read under the row lock, so a window
-- that moved past the row meanwhile is never charged for it twice.
CREATE FUNCTION chute_quota_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.user_id = NEW.user_id THEN
    UPDATE quota_usage q SET
      recent = q.recent + (NEW.created_at > q.recent_from)::int - (OLD.created_at > q.recent_from)::int,
      bytes = q.bytes
        + CASE WHEN NEW.created_at > q.bytes_from AND chute_quota_counts_bytes(NEW.state) THEN NEW.declared_size ELSE 0 END
        - CASE WHEN OLD.created_at > q.bytes_from AND chute_quota_counts_bytes(OLD.state) THEN OLD.declared_size ELSE 0 END,
      pending = q.pending + (NEW.state = 'granted' AND NEW.expires_at > q.pending_from)::int
                          - (OLD.state = 'granted' AND OLD.expires_at > q.pending_from)::int
    WHERE q.user_id = NEW.user_id;
    RETURN NULL;
  END IF;
  UPDATE quota_usage q SET
    recent = q.recent - (OLD.created_at > q.recent_from)::int,
    bytes = q.bytes - CASE WHEN OLD.created_at > q.bytes_from AND chute_quota_counts_bytes(OLD.state)
                          THEN OLD.declared_size ELSE 0 END,
    pending = q.pending - (OLD.state = 'granted' AND OLD.expires_at > q.pending_from)::int
  WHERE q.user_id = OLD.user_id;
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO quota_usage (user_id) VALUES (NEW.user_id) ON CONFLICT DO NOTHING;
    UPDATE quota_usage q SET
      recent = q.recent + (NEW.created_at > q.recent_from)::int,
      bytes = q.bytes + CASE WHEN NEW.created_at > q.bytes_from AND chute_quota_counts_bytes(NEW.state)
                            THEN NEW.declared_size ELSE 0 END,
      pending = q.pending + (NEW.state = 'granted' AND NEW.expires_at > q.pending_from)::int
    WHERE q.user_id = NEW.user_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER uploads_quota_update AFTER UPDATE OF user_id, state, declared_size, created_at, expires_at ON uploads
  FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.state IS DISTINCT FROM NEW.state
    OR OLD.declared_size IS DISTINCT FROM NEW.declared_size OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
  EXECUTE FUNCTION chute_quota_changed();
CREATE TRIGGER uploads_quota_delete AFTER DELETE ON uploads FOR EACH ROW EXECUTE FUNCTION chute_quota_changed();

CREATE FUNCTION chute_quota_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM quota_usage;
  RETURN NULL;
END $$;
CREATE TRIGGER uploads_quota_truncate AFTER TRUNCATE ON uploads
  FOR EACH STATEMENT EXECUTE FUNCTION chute_quota_truncated();
`;

/**
 * chute_quota_read as migration 6 made it (`create`: CREATE FUNCTION) and migration 8 redefines
 * it (CREATE OR REPLACE FUNCTION, with its own spelling of `granted`: pending-index.sql.ts).
 */
export function quotaRead(create: string, granted: string): string {
  return `-- Locks the users' rows (made if new), moves their windows to p_now, returns their usage.
-- p_users: a JSON array of user ids.
${create} chute_quota_read(p_users TEXT, p_now BIGINT)
RETURNS TABLE (user_id TEXT, recent BIGINT, recent_oldest BIGINT, pending BIGINT,
               pending_first_expiry BIGINT, bytes BIGINT, bytes_oldest BIGINT)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
  v_users TEXT[];
BEGIN
  SELECT array_agg(DISTINCT x ORDER BY x) INTO v_users FROM json_array_elements_text(p_users::json) x;
  INSERT INTO quota_usage (user_id) SELECT x FROM unnest(v_users) x ORDER BY x ON CONFLICT DO NOTHING;
  PERFORM 1 FROM quota_usage q WHERE q.user_id = ANY (v_users) ORDER BY q.user_id FOR UPDATE;
  -- A statement of its own, after the locks: its snapshot has every commit made before them.
  UPDATE quota_usage q SET
    recent = q.recent - (SELECT count(*) FROM uploads u WHERE u.user_id = q.user_id
                           AND u.created_at > q.recent_from AND u.created_at <= p_now - ${MINUTE}),
    recent_from = greatest(q.recent_from, p_now - ${MINUTE}),
    bytes = q.bytes - (SELECT coalesce(sum(u.declared_size), 0) FROM uploads u WHERE u.user_id = q.user_id
                         AND u.created_at > q.bytes_from AND u.created_at <= p_now - ${DAY}
                         AND chute_quota_counts_bytes(u.state)),
    bytes_from = greatest(q.bytes_from, p_now - ${DAY}),
    pending = q.pending - (SELECT count(*) FROM uploads u WHERE u.user_id = q.user_id AND ${granted}
                             AND u.expires_at > q.pending_from AND u.expires_at <= p_now),
    pending_from = greatest(q.pending_from, p_now)
  WHERE q.user_id = ANY (v_users)
    AND (q.recent_from < p_now - ${MINUTE} OR q.bytes_from < p_now - ${DAY} OR q.pending_from < p_now);
  -- The oldest entry of each window (for Retry-After): one index probe each.
  RETURN QUERY
  SELECT q.user_id, q.recent,
         (SELECT min(u.created_at) FROM uploads u WHERE u.user_id = q.user_id AND u.created_at > q.recent_from),
         q.pending,
         (SELECT min(u.expires_at) FROM uploads u WHERE u.user_id = q.user_id AND ${granted}
            AND u.expires_at > q.pending_from),
         q.bytes,
         (SELECT min(u.created_at) FROM uploads u WHERE u.user_id = q.user_id AND u.created_at > q.bytes_from
            AND chute_quota_counts_bytes(u.state))
  FROM quota_usage q WHERE q.user_id = ANY (v_users);
END $$;
`;
}
