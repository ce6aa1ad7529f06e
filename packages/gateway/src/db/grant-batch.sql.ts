/**
 * Migration 7 (PostgreSQL): less planning and one index insert less per grant.
 *
 * Measured in the backend (CPU time of chute_grant_batch over 1,520 grants, 16 a batch, 500
 * users, 6 runs each on a busy machine: median 323 µs a grant before, 269 µs after), planning
 * was a large share: migration 6's function planned the refusals' probes on every call
 * (EXECUTE), refusals or not. Now they are planned only when a batch has refusals.
 *
 * The usage read stays planned on every call: with a cached generic plan (tried: 150–200 µs a
 * grant in the function) the bench's plan, made while the table was small, counted the pending
 * edge through uploads_state_created — every granted row of every user, 20–500 ms a batch.
 *
 * uploads_state_completed (the review queue's index) no longer holds granted rows: each grant
 * spares an index insert, and the pending edge's `state = 'granted'` can no longer be read
 * through it. The review queue asks for states other than `granted`, which implies the index's
 * predicate (checked with EXPLAIN in quota-counters.test.ts).
 *
 * Everything else is migration 6's chute_grant_batch as it was (grant-batch-steps.sql.ts, the steps both share;
 * quota-counters.sql.ts says what each step does and why).
 */
import {
  GRANT_BATCH_ADMIT,
  GRANT_BATCH_HEAD,
  GRANT_BATCH_WRITE,
  refusalProbes,
} from './grant-batch-steps.sql.ts';

export const GRANT_BATCH_V7 = `
DROP INDEX uploads_state_completed;
-- the review queue: pending_review (or decided), oldest verified first; never a granted row
CREATE INDEX uploads_state_completed ON uploads (state, completed_at, id) WHERE state <> 'granted';

CREATE OR REPLACE FUNCTION chute_grant_batch(p_batch TEXT, p_now BIGINT) RETURNS TEXT
${GRANT_BATCH_HEAD}
  -- Still planned on each call (EXECUTE), as in migration 6: a plan cached while the table was
  -- small counts the pending edge through any index that leads with state (in the bench a cached
  -- generic plan took uploads_state_created: every granted row of every user, 20–500 ms a batch).
${GRANT_BATCH_ADMIT}
  -- The refusals' probes, only when there are refusals, planned on each call (EXECUTE): they run
  -- rarely, and a min() over an index is where a plan made for a small table could pick a scan
  -- of uploads_created in time order instead of the user's rows.
${refusalProbes("u.state = 'granted'")}
${GRANT_BATCH_WRITE}`;
