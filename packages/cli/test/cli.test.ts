import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20000 });

test('chute --help prints usage and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /chute s3 --port P --data DIR/);
});

test('chute s3 without --data is a usage error (exit 2) naming the option', () => {
  const r = run('s3', '--port', '0');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--data DIR is required/);
});

test('chute s3 with an unknown option is a usage error', () => {
  const r = run('s3', '--data', '/tmp/x', '--bogus');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bogus/);
});

test('chute s3 --access-key without --secret-key is a usage error', () => {
  const r = run('s3', '--data', '/tmp/x', '--access-key', 'abc');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /go together/);
});

test('chute s3 --port 70000 is a usage error', () => {
  const r = run('s3', '--data', '/tmp/x', '--port', '70000');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port/);
});

test('unknown command is a usage error', () => {
  const r = run('frobnicate');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});
