import type { Executor } from '../../src/db/driver.ts';

/**
 * "Nothing half-written", read from the tables: a state change writes the upload's row, its audit
 * row and (for the changes apps hear about) its event in one transaction, so after any fault
 * every upload's current state has an audit row that moved it there, every upload was granted
 * once, and each verified upload has exactly one upload.verified event (none for others).
 * Returns the broken rows, one line each (empty: consistent).
 */
export async function halfWritten(db: Pick<Executor, 'all'>): Promise<string[]> {
  const rows = await db.all<{
    id: string;
    state: string;
    granted: number;
    reached: number;
    verified_events: number;
  }>(
    `SELECT u.id, u.state,
       (SELECT count(*) FROM audit a WHERE a.upload_id = u.id AND a.action = 'granted') AS granted,
       (SELECT count(*) FROM audit a WHERE a.upload_id = u.id AND a.to_state = u.state) AS reached,
       (SELECT count(*) FROM events e WHERE e.upload_id = u.id AND e.type = 'upload.verified') AS verified_events
     FROM uploads u`,
  );
  const broken: string[] = [];
  for (const r of rows) {
    if (Number(r.granted) !== 1) broken.push(`${r.id}: ${r.granted} grant audit rows`);
    if (Number(r.reached) < 1) broken.push(`${r.id}: state ${r.state} without an audit row`);
    const wanted = r.state === 'verified' ? 1 : 0;
    if (Number(r.verified_events) !== wanted)
      broken.push(`${r.id}: ${r.state} with ${r.verified_events} upload.verified events`);
  }
  const orphans = await db.all<{ n: number }>(
    'SELECT count(*) AS n FROM audit a WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.id = a.upload_id)',
  );
  if (Number(orphans[0]?.n ?? 0) > 0) broken.push(`${orphans[0]!.n} audit rows of uploads that do not exist`);
  return broken;
}
