/**
 * The steps of chute_grant_batch that migrations 6 (quota-counters.sql.ts), 7 (grant-batch.sql.ts)
 * and 8 (pending-index.sql.ts) share word for word, some with a parameter where a later one
 * spells a step differently (usageRead, probeLoop); each migration spells out only what it
 * changes around them. What each step does and why is migration 6's comment. These texts are
 * part of migrations already applied: the SQL they make for an applied migration must never
 * change (compare the migrations' SQL before and after any edit here); a later version that
 * changes a step writes its own.
 */
import { DAY, MINUTE } from './quota.ts';

/** The body's variables (migration 8 declares one more: pending-index.sql.ts). */
export const GRANT_BATCH_VARIABLES = `  v_batch JSONB := p_batch::jsonb;
  v_users TEXT[];
  v_start JSONB;
  v_used JSONB;
  v_add JSONB := '{}';
  v_admitted INT[] := '{}';
  v_refused TEXT[] := '{}';
  r RECORD;
  u JSONB;
  a JSONB;
`;

/** Step 1: lock the users' counter rows in user order (made if new). */
export const GRANT_BATCH_LOCK = `BEGIN
  SELECT array_agg(DISTINCT x ORDER BY x) INTO v_users FROM jsonb_array_elements_text(v_batch -> 'users') x;
  INSERT INTO quota_usage (user_id) SELECT x FROM unnest(v_users) x ORDER BY x ON CONFLICT DO NOTHING;
  PERFORM 1 FROM quota_usage q WHERE q.user_id = ANY (v_users) ORDER BY q.user_id FOR UPDATE;
`;

/** What migrations 6 and 7 say of the function, its declarations and step 1. */
export const GRANT_BATCH_HEAD = `LANGUAGE plpgsql VOLATILE AS $$
DECLARE
${GRANT_BATCH_VARIABLES}${GRANT_BATCH_LOCK}`;

/**
 * Step 2's read: each user's usage with the windows moved to `now`, as chute_quota_read computes
 * it, not written yet. `users` and `now` are how the statement names the batch's user array and
 * clock (`$1`/`$2` inside an EXECUTE, the variables in a static statement); `granted` is the test
 * that a row is in state granted (migration 8 spells it so that only uploads_user_pending serves
 * it: pending-index.sql.ts).
 */
export function usageRead(users: string, now: string, granted: string): string {
  return `
  SELECT jsonb_object_agg(w.user_id, jsonb_build_object(
           'recent', w.recent - (SELECT count(*) FROM uploads u WHERE u.user_id = w.user_id
                                   AND u.created_at > w.old_rf AND u.created_at <= w.rf),
           'bytes', w.bytes - (SELECT coalesce(sum(u.declared_size), 0) FROM uploads u WHERE u.user_id = w.user_id
                                 AND u.created_at > w.old_bf AND u.created_at <= w.bf AND chute_quota_counts_bytes(u.state)),
           'pending', w.pending - (SELECT count(*) FROM uploads u WHERE u.user_id = w.user_id AND ${granted}
                                     AND u.expires_at > w.old_pf AND u.expires_at <= w.pf),
           'rf', w.rf, 'bf', w.bf, 'pf', w.pf,
           'recentOldest', NULL, 'pendingFirstExpiry', NULL, 'bytesOldest', NULL))
  FROM (SELECT q.user_id, q.recent, q.bytes, q.pending,
               q.recent_from AS old_rf, greatest(q.recent_from, ${now} - ${MINUTE}) AS rf,
               q.bytes_from AS old_bf, greatest(q.bytes_from, ${now} - ${DAY}) AS bf,
               q.pending_from AS old_pf, greatest(q.pending_from, ${now}) AS pf
        FROM quota_usage q WHERE q.user_id = ANY (${users})) w
  `;
}

/** Step 3: each grant admitted in order, as enforceQuota would, against v_start. */
export const GRANT_BATCH_ADMIT_LOOP = `
  v_used := v_start;
  FOR r IN SELECT * FROM jsonb_to_recordset(v_batch -> 'grants')
      AS x(n INT, user_id TEXT, declared_size NUMERIC, expires_at BIGINT,
           grants_per_minute NUMERIC, pending_grants NUMERIC, bytes_per_day NUMERIC) ORDER BY n LOOP
    u := v_used -> r.user_id;
    IF (u ->> 'recent')::numeric >= r.grants_per_minute
       OR (u ->> 'pending')::numeric >= r.pending_grants
       OR (u ->> 'bytes')::numeric + r.declared_size > r.bytes_per_day THEN
      v_refused := v_refused || r.user_id;
      CONTINUE;
    END IF;
    v_admitted := v_admitted || r.n;
    -- As enforceQuota's caller charges it (chargeUsage)…
    v_used := jsonb_set(v_used, ARRAY[r.user_id], u || jsonb_build_object(
      'recent', (u ->> 'recent')::numeric + 1,
      'pending', (u ->> 'pending')::numeric + CASE WHEN r.expires_at > p_now THEN 1 ELSE 0 END,
      'bytes', (u ->> 'bytes')::numeric + r.declared_size));
    -- …and as the new row counts in the windows (created_at = p_now), as the INSERT trigger would.
    a := coalesce(v_add -> r.user_id, '{"recent": 0, "bytes": 0, "pending": 0}');
    v_add := v_add || jsonb_build_object(r.user_id, jsonb_build_object(
      'recent', (a ->> 'recent')::bigint + CASE WHEN p_now > (u ->> 'rf')::bigint THEN 1 ELSE 0 END,
      'bytes', (a ->> 'bytes')::numeric + CASE WHEN p_now > (u ->> 'bf')::bigint THEN r.declared_size ELSE 0 END,
      'pending', (a ->> 'pending')::bigint + CASE WHEN r.expires_at > (u ->> 'pf')::bigint THEN 1 ELSE 0 END));
  END LOOP;
`;

/** Steps 2 and 3 as migrations 6 and 7 have them: the usage read planned on each call (EXECUTE). */
export const GRANT_BATCH_ADMIT = `  EXECUTE $q$${usageRead('$1', '$2', "u.state = 'granted'")}$q$ INTO v_start USING v_users, p_now;
${GRANT_BATCH_ADMIT_LOOP}`;

/**
 * The probes for the refused users: the oldest entry of each window, for Retry-After, planned on
 * each call (EXECUTE); `granted` as in usageRead. Migration 6 runs them on every batch.
 */
export function probeLoop(granted: string): string {
  return `  FOR r IN EXECUTE $q$
       SELECT x AS user_id,
         (SELECT min(u.created_at) FROM uploads u WHERE u.user_id = x
            AND u.created_at > ($1 -> x ->> 'rf')::bigint) AS recent_oldest,
         (SELECT min(u.expires_at) FROM uploads u WHERE u.user_id = x AND ${granted}
            AND u.expires_at > ($1 -> x ->> 'pf')::bigint) AS pending_first_expiry,
         (SELECT min(u.created_at) FROM uploads u WHERE u.user_id = x
            AND u.created_at > ($1 -> x ->> 'bf')::bigint AND chute_quota_counts_bytes(u.state)) AS bytes_oldest
       FROM (SELECT DISTINCT x FROM unnest($2) x) d
     $q$ USING v_start, v_refused LOOP
    v_start := jsonb_set(v_start, ARRAY[r.user_id], (v_start -> r.user_id) || jsonb_build_object(
      'recentOldest', r.recent_oldest, 'pendingFirstExpiry', r.pending_first_expiry, 'bytesOldest', r.bytes_oldest));
  END LOOP;
`;
}

/** Migration 7's: the probes only when the batch has refusals. */
export function refusalProbes(granted: string): string {
  return `  IF cardinality(v_refused) > 0 THEN
${indent(probeLoop(granted))}  END IF;
`;
}

/** Every non-empty line two spaces further in (a step moved into an IF). */
export function indent(sql: string): string {
  return sql.replace(/^(?=.)/gm, '  ');
}

/** Step 4: the admitted grants and their audit rows inserted, each counter row written once. */
export const GRANT_BATCH_WRITE = `  PERFORM set_config('chute.quota_counted', 'on', true);
  INSERT INTO uploads (id, user_id, route, rule_hash, state, method, incoming_key, filename, declared_type,
                       declared_size, checksum, created_at, expires_at, updated_at, multipart_id, part_size)
  SELECT x.id, x.user_id, x.route, x.rule_hash, 'granted', x.method, x.incoming_key, x.filename, x.declared_type,
         x.declared_size, x.checksum, p_now, x.expires_at, p_now, x.multipart_id, x.part_size
  FROM jsonb_to_recordset(v_batch -> 'grants')
    AS x(n INT, id TEXT, user_id TEXT, route TEXT, rule_hash TEXT, method TEXT, incoming_key TEXT, filename TEXT,
         declared_type TEXT, declared_size BIGINT, checksum TEXT, expires_at BIGINT, multipart_id TEXT, part_size BIGINT)
  WHERE x.n = ANY (v_admitted) ORDER BY x.n;
  PERFORM set_config('chute.quota_counted', 'off', true);
  INSERT INTO audit (id, upload_id, at, actor, actor_role, action, from_state, to_state, request_id, detail)
  SELECT x.audit_id, x.id, p_now, x.actor, x.actor_role, 'granted', NULL, 'granted', x.request_id, x.detail
  FROM jsonb_to_recordset(v_batch -> 'grants')
    AS x(n INT, audit_id TEXT, id TEXT, actor TEXT, actor_role TEXT, request_id TEXT, detail TEXT)
  WHERE x.n = ANY (v_admitted);

  UPDATE quota_usage q SET
    recent_from = (v_start -> q.user_id ->> 'rf')::bigint,
    recent = (v_start -> q.user_id ->> 'recent')::bigint + coalesce((v_add -> q.user_id ->> 'recent')::bigint, 0),
    bytes_from = (v_start -> q.user_id ->> 'bf')::bigint,
    bytes = (v_start -> q.user_id ->> 'bytes')::bigint + coalesce((v_add -> q.user_id ->> 'bytes')::bigint, 0),
    pending_from = (v_start -> q.user_id ->> 'pf')::bigint,
    pending = (v_start -> q.user_id ->> 'pending')::bigint + coalesce((v_add -> q.user_id ->> 'pending')::bigint, 0)
  WHERE q.user_id = ANY (v_users);
  RETURN jsonb_build_object('usage', v_start, 'admitted', to_jsonb(v_admitted))::text;
END $$;
`;
