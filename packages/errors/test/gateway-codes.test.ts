import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ChuteError, GATEWAY_CODES, REJECTION_REASONS, toChuteError, toJson } from '../src/index.ts';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** Rows of the markdown table that follows `heading`, as arrays of trimmed cells (backticks removed). */
function tableAfter(heading: string): string[][] {
  const start = docs.indexOf(heading);
  assert.ok(start >= 0, `docs/errors.md has no "${heading}"`);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of docs.slice(start).split('\n').slice(1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const cells = line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim().replaceAll('`', ''));
      if (!cells.every((c) => /^-+$/.test(c))) rows.push(cells);
    } else if (inTable) break;
  }
  return rows.slice(1); // drop the header row
}

test('docs/errors.md lists exactly the registry codes, with the same status and message', () => {
  const documented = tableAfter('## Error codes');
  assert.deepEqual(
    documented.map(([code]) => code).sort(),
    Object.keys(GATEWAY_CODES).sort(),
    'codes in docs and registry differ',
  );
  for (const [code, status, message] of documented) {
    const entry = GATEWAY_CODES[code as keyof typeof GATEWAY_CODES];
    assert.equal(Number(status), entry.status, `${code} status`);
    assert.equal(message, entry.message, `${code} message`);
  }
});

test('docs/errors.md lists exactly the rejection reasons, with the same meaning', () => {
  const documented = tableAfter('## Rejection reasons');
  assert.deepEqual(documented.map(([reason]) => reason).sort(), Object.keys(REJECTION_REASONS).sort());
  for (const [reason, meaning] of documented) {
    assert.equal(meaning, REJECTION_REASONS[reason as keyof typeof REJECTION_REASONS], reason);
  }
});

test('codes are snake_case with a 4xx/5xx status and a message ending in a full stop', () => {
  for (const [code, { status, message }] of Object.entries(GATEWAY_CODES)) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/, code);
    assert.ok(status >= 400 && status < 600, `${code} status ${status}`);
    assert.match(message, /\.$/, code);
  }
});

test('ChuteError takes its status and default message from the registry', () => {
  const e = new ChuteError('type_not_allowed');
  assert.equal(e.status, 415);
  assert.equal(e.message, GATEWAY_CODES.type_not_allowed.message);
  assert.ok(e instanceof Error);
  assert.equal(new ChuteError('too_large', { message: 'max 20 MB' }).message, 'max 20 MB');
});

test('quota_exceeded with retryAfter 1.2 s sends Retry-After: 2 (whole seconds, rounded up)', () => {
  const e = new ChuteError('quota_exceeded', { retryAfter: 1.2 });
  assert.equal(e.headers['retry-after'], '2');
  assert.equal(new ChuteError('quota_exceeded', { retryAfter: 0 }).headers['retry-after'], '1');
  assert.deepEqual(new ChuteError('forbidden').headers, {});
});

test('toJson gives {error: {code, message, requestId}} with the thrower\u2019s message and details on a 4xx', () => {
  const e = new ChuteError('too_large', { message: 'at most 20 MB', details: { maxSize: 20_000_000 } });
  assert.deepEqual(toJson(e, 'req_1'), {
    error: {
      code: 'too_large',
      message: 'at most 20 MB',
      requestId: 'req_1',
      details: { maxSize: 20_000_000 },
    },
  });
});

test('toJson never echoes an internal message on a 500 (SQL text in a thrown TypeError)', () => {
  const body = toJson(new TypeError('relation "uploads" does not exist at 10.0.0.5'), 'req_2');
  assert.deepEqual(body, { error: { code: 'internal', message: 'Internal error.', requestId: 'req_2' } });
  const explicit = toJson(
    new ChuteError('internal', { message: 'secret path /var/x', details: { a: 1 } }),
    'r',
  );
  assert.equal(explicit.error.message, 'Internal error.');
  assert.equal(explicit.error.details, undefined);
});

test('toChuteError wraps a thrown string as internal and keeps it as the cause', () => {
  const e = toChuteError('boom');
  assert.equal(e.code, 'internal');
  assert.equal(e.cause, 'boom');
});
