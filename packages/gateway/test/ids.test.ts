import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChuteError } from '@chute/errors';
import {
  assertUserId,
  EVENT_ID,
  fileKey,
  incomingKey,
  isUploadId,
  isUserId,
  newEventId,
  newUploadId,
  randomBase62,
} from '../src/domain/ids.ts';

test('newUploadId is up_ + 22 base62 characters and does not repeat', () => {
  const ids = new Set(Array.from({ length: 2000 }, newUploadId));
  assert.equal(ids.size, 2000);
  for (const id of ids) assert.ok(isUploadId(id), id);
});

test('newUploadId sorts by creation time (8 time characters first), then random', () => {
  const times = [0, 1, 61, 62, 1_700_000_000_000, Date.UTC(2026, 10, 21), Date.UTC(2100, 0, 1)];
  const ids = times.map((t) => newUploadId(t));
  for (const id of ids) assert.ok(isUploadId(id), id);
  assert.deepEqual([...ids].sort(), ids, 'lexical order is time order');
  assert.equal(newUploadId(0).slice(3, 11), '00000000');
  assert.equal(newUploadId(62).slice(3, 11), '00000010');
  // Same millisecond: equal time part, different random part.
  const a = newUploadId(5);
  const b = newUploadId(5);
  assert.equal(a.slice(0, 11), b.slice(0, 11));
  assert.notEqual(a, b);
});

test('randomBase62 uses the whole alphabet roughly evenly (no modulo bias toward 0-7)', () => {
  const counts = new Map<string, number>();
  for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 62);
  // Each character expects 1000; modulo bias on raw bytes would give 0-7 about 1238.
  for (const [c, n] of counts) assert.ok(n > 850 && n < 1150, `${c}: ${n}`);
});

test('user ids: letters, digits and . _ @ - accepted', () => {
  for (const ok of ['alice', 'u_123', 'a.b@example.com', '7', 'x'.repeat(128)]) assert.ok(isUserId(ok), ok);
});

for (const bad of [
  '',
  '../alice',
  'a/b',
  '.hidden',
  '-x',
  'auth0|abc',
  'a b',
  'a%2Fb',
  'é',
  'x'.repeat(129),
]) {
  test(`user id ${JSON.stringify(bad.slice(0, 20))} is refused (unsafe in a key)`, () => {
    assert.equal(isUserId(bad), false);
    assert.throws(
      () => assertUserId(bad),
      (e: unknown) => e instanceof ChuteError && e.code === 'invalid_request',
    );
  });
}

test('isUserId refuses non-strings (a numeric sub claim)', () => {
  assert.equal(isUserId(42), false);
  assert.equal(isUserId(undefined), false);
});

test('keys: incoming/{user}/{upload} and files/{upload}; unsafe parts throw', () => {
  const id = newUploadId();
  assert.equal(incomingKey('alice', id), `incoming/alice/${id}`);
  assert.equal(fileKey(id), `files/${id}`);
  assert.throws(() => incomingKey('../bob', id), TypeError);
  assert.throws(() => incomingKey('alice', 'up_../../x'), TypeError);
  assert.throws(() => fileKey('x'), TypeError);
});

test('newEventId is ev_ + 22 base62, sorts in the order made: within one millisecond and when the clock steps back', () => {
  const made = [
    ...Array.from({ length: 5000 }, () => newEventId(1_800_000_000_000)),
    newEventId(1_800_000_000_001),
    newEventId(1_700_000_000_000), // the clock stepped back: still after the previous id
    ...Array.from({ length: 100 }, () => newEventId()),
  ];
  for (const id of made) assert.ok(EVENT_ID.test(id), id);
  assert.equal(new Set(made).size, made.length);
  // Plain code-unit order (what the database compares: BINARY in SQLite, COLLATE "C" in PostgreSQL).
  const sorted = [...made].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(sorted, made);
  assert.equal(made[0]!.slice(3, 11), made[4999]!.slice(3, 11), 'one millisecond, one time part');
  assert.ok(made[1]! > made[0]!);
});
