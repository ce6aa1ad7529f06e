import assert from 'node:assert/strict';
import { test } from 'node:test';
import { route } from '../src/rules/builder.ts';
import { canonicalRule, parseRule, ruleFingerprint } from '../src/rules/fingerprint.ts';
import { routeFromSpec } from '../src/rules/spec.ts';

const logo = () =>
  route('logo').types('image/png').maxSize('1MB').image({ maxWidth: 10 }).metadata({ b: '2', a: '1' });

test('equal rules fingerprint equal, whatever order their keys were given in', () => {
  const a = logo().build();
  const b = route('logo')
    .metadata({ a: '1', b: '2' })
    .image({ maxWidth: 10 })
    .maxSize('1MB')
    .types('image/png')
    .build();
  assert.equal(ruleFingerprint(a), ruleFingerprint(b));
  assert.match(ruleFingerprint(a), /^[0-9a-f]{32}$/);
});

test('any change to what is checked changes the fingerprint', () => {
  const base = ruleFingerprint(logo().build());
  for (const changed of [
    logo().maxSize('2MB'),
    logo().minSize(2),
    logo().review(),
    logo().method('put'),
    logo().lifetime('5m'),
    logo().image({ maxWidth: 11 }),
    logo().metadata({ a: '1', b: '3' }),
    route('logo')
      .types('image/png', 'image/gif')
      .maxSize('1MB')
      .image({ maxWidth: 10 })
      .metadata({ b: '2', a: '1' }),
    route('logo2').types('image/png').maxSize('1MB').image({ maxWidth: 10 }).metadata({ b: '2', a: '1' }),
  ]) {
    assert.notEqual(ruleFingerprint(changed.build()), base, canonicalRule(changed.build()));
  }
});

test('a stored rule reads back equal and frozen; a JSON spec and a builder agree', () => {
  const rule = logo().build();
  const back = parseRule(canonicalRule(rule));
  assert.deepEqual(back, JSON.parse(JSON.stringify(rule)));
  assert.equal(ruleFingerprint(back), ruleFingerprint(rule));
  assert.ok(Object.isFrozen(back) && Object.isFrozen(back.types) && Object.isFrozen(back.metadata));
  const spec = routeFromSpec({
    name: 'logo',
    types: ['image/png'],
    maxSize: '1MB',
    image: { maxWidth: 10 },
    metadata: { a: '1', b: '2' },
  });
  assert.equal(ruleFingerprint(spec.build()), ruleFingerprint(rule));
});
