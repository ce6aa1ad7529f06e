/**
 * Migration 8 (PostgreSQL): the grant batch plans once per session, and admits a batch that fits
 * whole in one statement. Measured in the backend (CPU time of chute_grant_batch, batches of 16
 * over 500 users, alternating runs on a busy machine): 191–235 µs a grant with migration 7,
 * 135–176 µs with this one. Planning the usage read on every call was about a fifth of the
 * function's time, the per-grant JSONB loop another fifth.
 *
 * Plans. Migrations 6 and 7 planned the usage read on every call (EXECUTE) because a plan cached
 * while `uploads` was small could count the pending window (`state = 'granted'` and a range of
 * expires_at) through an index that leads with state (uploads_state_created,
 * uploads_state_expires: every granted row of every user) instead of the user's own rows, and
 * then a batch's cost grew with the table (20–500 ms a batch in the bench). The sweeper needs
 * those indexes, so they stay; instead the pending window tests a row's state through an
 * expression no other index has:
 *
 *   (u.state || '') = 'granted'
 *
 * which only uploads_user_pending, made again here with that same predicate, can serve (a
 * partial index serves a query whose WHERE implies its predicate; an index on `state` cannot
 * match `state || ''`). The other two windows are ranges of created_at for one user, which
 * uploads_user_quota (user_id, created_at, …) serves with both as index conditions. With that,
 * the function forces generic plans (plan_cache_mode): PostgreSQL's own choice kept planning
 * the read on every call, since a custom plan, knowing the values, always looks cheaper.
 * quota-counters.test.ts checks it: the generic plans made at a first call on an empty
 * `uploads`, the table then grown by 20,000 rows behind the planner's back, and every window
 * still read through the user's own rows (with `u.state = 'granted'` that test fails: the plan
 * takes uploads_state_created).
 *
 * chute_quota_read and the refusals' probes test `granted` the same way, or they could no longer
 * use the index. Everything else is migration 7's chute_grant_batch as it was
 * (grant-batch-steps.sql.ts).
 */
import {
  GRANT_BATCH_ADMIT_LOOP,
  GRANT_BATCH_LOCK,
  GRANT_BATCH_VARIABLES,
  GRANT_BATCH_WRITE,
  indent,
  refusalProbes,
  usageRead,
} from './grant-batch-steps.sql.ts';
import { quotaRead } from './quota-counters.sql.ts';

/** A row in state granted, as only uploads_user_pending can serve it (see above). */
const GRANTED = "(u.state || '') = 'granted'";

/**
 * Step 3 in one statement when no grant of the batch is refused: checked with every grant before
 * it in the batch charged to its user (running sums, as chargeUsage charges them), a batch whose
 * grants all fit is exactly one that admitting in order admits whole, so the per-grant loop,
 * whose JSONB rewrites were a fifth of the function's time, runs only when some grant is refused.
 * What the new rows count in the windows (v_add) is then one aggregate per user.
 */
const FAST_ADMIT = `
  SELECT bool_and(f.fits), array_agg(f.n ORDER BY f.n) INTO v_fast, v_admitted
  FROM (SELECT x.n,
               (v_start -> x.user_id ->> 'recent')::numeric + count(*) OVER w - 1 < x.grants_per_minute
           AND (v_start -> x.user_id ->> 'pending')::numeric + count(*) FILTER (WHERE x.expires_at > p_now) OVER w
                 - CASE WHEN x.expires_at > p_now THEN 1 ELSE 0 END < x.pending_grants
           AND (v_start -> x.user_id ->> 'bytes')::numeric + sum(x.declared_size) OVER w <= x.bytes_per_day AS fits
        FROM jsonb_to_recordset(v_batch -> 'grants')
          AS x(n INT, user_id TEXT, declared_size NUMERIC, expires_at BIGINT,
               grants_per_minute NUMERIC, pending_grants NUMERIC, bytes_per_day NUMERIC)
        WINDOW w AS (PARTITION BY x.user_id ORDER BY x.n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) f;
  IF v_fast THEN
    SELECT jsonb_object_agg(g.user_id, jsonb_build_object('recent', g.recent, 'bytes', g.bytes, 'pending', g.pending))
    INTO v_add
    FROM (SELECT x.user_id,
                 count(*) FILTER (WHERE p_now > (v_start -> x.user_id ->> 'rf')::bigint) AS recent,
                 coalesce(sum(x.declared_size) FILTER (WHERE p_now > (v_start -> x.user_id ->> 'bf')::bigint), 0) AS bytes,
                 count(*) FILTER (WHERE x.expires_at > (v_start -> x.user_id ->> 'pf')::bigint) AS pending
          FROM jsonb_to_recordset(v_batch -> 'grants') AS x(user_id TEXT, declared_size NUMERIC, expires_at BIGINT)
          GROUP BY x.user_id) g;
  ELSE
    v_admitted := '{}';
`;

export const PENDING_INDEX_V8 = `
DROP INDEX uploads_user_pending;
-- the pending window: a user's granted rows by deadline; the predicate only the window's queries spell
CREATE INDEX uploads_user_pending ON uploads (user_id, expires_at) WHERE (state || '') = 'granted';

${quotaRead('CREATE OR REPLACE FUNCTION', GRANTED)}
CREATE OR REPLACE FUNCTION chute_grant_batch(p_batch TEXT, p_now BIGINT) RETURNS TEXT
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
${GRANT_BATCH_VARIABLES}  v_fast BOOLEAN;
${GRANT_BATCH_LOCK}
  -- A static statement: planned once per session (see above).${usageRead('v_users', 'p_now', GRANTED)}INTO v_start;
${FAST_ADMIT}${indent(GRANT_BATCH_ADMIT_LOOP)}  END IF;
${refusalProbes(GRANTED)}
${GRANT_BATCH_WRITE}`;
