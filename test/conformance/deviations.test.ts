// The deviation table and docs/compat.md stay in step: every row is documented, ids are unique,
// and every row names a test file that exists.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { deviations } from './deviations.ts';

const compat = readFileSync(new URL('../../docs/compat.md', import.meta.url), 'utf8');

describe('deviation table', () => {
  it('has unique ids', () => {
    const ids = deviations.map((d) => d.id);
    assert.deepEqual(ids, [...new Set(ids)]);
  });

  for (const d of deviations) {
    it(`${d.id} is listed in docs/compat.md`, () => {
      assert.ok(compat.includes(`\`${d.id}\``), `docs/compat.md does not mention \`${d.id}\``);
    });

    it(`${d.id} names an existing test file`, () => {
      const file = /^[\w-]+\.test\.ts/.exec(d.test)?.[0];
      if (!file) return; // a suite-wide deviation (empty-error-message)
      assert.ok(existsSync(new URL(file, import.meta.url)), `${file} does not exist`);
    });
  }
});
