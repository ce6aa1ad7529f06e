import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPgPlaceholders } from '../src/db/placeholders.ts';

test('? becomes $1, $2 … in order', () => {
  assert.equal(
    toPgPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?)'),
    'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)',
  );
});

test('a ? inside \'string\' or "identifier" is left alone', () => {
  assert.equal(
    toPgPlaceholders(`SELECT '?', "a?b" FROM t WHERE x = ?`),
    `SELECT '?', "a?b" FROM t WHERE x = $1`,
  );
  assert.equal(toPgPlaceholders(`SELECT 'it''s ?' WHERE x = ?`), `SELECT 'it''s ?' WHERE x = $1`);
});
