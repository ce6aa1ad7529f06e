import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicy } from '../src/index.ts';
import { assertS3Error } from './helpers.ts';

const EXP = '2026-11-21T13:00:00.000Z';
const doc = (conditions: unknown, expiration: unknown = EXP) => JSON.stringify({ expiration, conditions });
const refused = (json: string, reason: string) =>
  assertS3Error(() => parsePolicy(json), 'InvalidPolicyDocument', `Invalid Policy: ${reason}`);

test('parse: a well-formed policy is read as written', () => {
  const json = doc([
    { acl: 'public-read' },
    ['starts-with', '$key', 'user/eric/'],
    ['content-length-range', 1, 10],
  ]);
  assert.deepEqual(parsePolicy(json), {
    expiration: EXP,
    conditions: [
      { acl: 'public-read' },
      ['starts-with', '$key', 'user/eric/'],
      ['content-length-range', 1, 10],
    ],
  });
});

test('parse: malformed JSON (trailing garbage, trailing comma, single quotes) → Invalid JSON.', () => {
  refused(`${doc([])}}`, 'Invalid JSON.');
  refused(`{"expiration": "${EXP}", "conditions": [{"acl": "private"},]}`, 'Invalid JSON.');
  refused(`{"expiration": "${EXP}", "conditions": [['starts-with', '$Filename', '']]}`, 'Invalid JSON.');
  refused('', 'Invalid JSON.');
});

test('parse: a document that is not an object ([] or "text") → Invalid JSON.', () => {
  assert.equal(parsePolicy(doc([])).conditions.length, 0);
  refused('[]', 'Invalid JSON.');
  refused('"expiration"', 'Invalid JSON.');
  refused('null', 'Invalid JSON.');
});

test('parse: a member other than expiration/conditions (Statement, EXPIRATION) → Unexpected', () => {
  refused(JSON.stringify({ Version: '2012-10-17', Statement: [] }), "Unexpected: 'version'");
  refused(JSON.stringify({ EXPIRATION: EXP, conditions: [] }), "Unexpected: 'expiration'");
  refused(JSON.stringify({ expiration: EXP, CONDITIONS: [] }), "Unexpected: 'conditions'");
});

test('parse: no expiration → Policy missing expiration.', () => {
  refused(JSON.stringify({ conditions: [] }), 'Policy missing expiration.');
});

test('parse: an expiration that is not ISO 8601 UTC (offset, space, Feb 30, number) → Invalid expiration', () => {
  assert.equal(parsePolicy(doc([], '2026-11-21T13:00:00Z')).expiration, '2026-11-21T13:00:00Z');
  assert.equal(parsePolicy(doc([], '2026-11-21T13:00:00.123456Z')).expiration, '2026-11-21T13:00:00.123456Z');
  for (const bad of [
    '2011-09-13T07:52:58+02:00',
    '2015-10-17 03:15:59 UTC',
    '2026-02-30T00:00:00Z',
    'tomorrow',
  ]) {
    refused(doc([], bad), `Invalid 'expiration' value: '${bad}'`);
  }
  refused(doc([], 32503680000), "Invalid 'expiration' value: '32503680000'");
  refused(doc([], null), "Invalid 'expiration' value: 'null'");
});

test('parse: no conditions, or conditions that are not a list → Policy missing conditions / must be a List', () => {
  refused(JSON.stringify({ expiration: EXP }), 'Policy missing conditions.');
  refused(doc({ acl: 'private' }), "Invalid 'conditions' value: must be a List.");
});

test('parse: an object condition with 0 or 2 properties → Simple-Conditions must have exactly one property', () => {
  const one = 'Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.';
  assert.deepEqual(parsePolicy(doc([{ acl: 'private' }])).conditions, [{ acl: 'private' }]);
  refused(doc([{}]), one);
  refused(doc([{ bucket: 'b', success_action_redirect: 'http://x' }]), one);
});

test('parse: an object condition whose value is a number or null → value must be a string / Invalid JSON.', () => {
  refused(doc([{ 'Content-Length': 6199034 }]), 'Invalid Simple-Condition: value must be a string.');
  refused(doc([{ success_action_redirect: null }]), 'Invalid JSON.');
});

test('parse: a condition that is neither list nor object ("bucket", 123) → must be a List or Object', () => {
  refused(doc(['bucket']), 'Invalid condition test: must be a List or Object.');
  refused(doc([123]), 'Invalid condition test: must be a List or Object.');
});

test('parse: an empty list or a non-string operator ([], [1, …]) → missing operation identifier', () => {
  refused(doc([[]]), 'Invalid Condition: missing operation identifier.');
  refused(doc([[1, '$key', 'x']]), 'Invalid Condition: missing operation identifier.');
});

test('parse: an unknown operator (ends-with) → unknown operation', () => {
  refused(doc([['ends-with', '$key', 'x']]), "Invalid Condition: unknown operation 'ends-with'.");
});

test('parse: operators are case-insensitive (StArTs-WiTh, EQ) and stored lowercased', () => {
  const p = parsePolicy(
    doc([
      ['StArTs-WiTh', '$KeY', 'foo'],
      ['EQ', '$acl', 'private'],
    ]),
  );
  assert.deepEqual(p.conditions, [
    ['starts-with', '$KeY', 'foo'],
    ['eq', '$acl', 'private'],
  ]);
});

test('parse: wrong arity (["eq", "$key"], ["content-length-range", 0]) → wrong number of arguments', () => {
  refused(doc([['eq', '$key']]), 'Invalid eq: wrong number of arguments.');
  refused(doc([['starts-with', '$key', 'a', 'b']]), 'Invalid starts-with: wrong number of arguments.');
  refused(doc([['content-length-range', 0]]), 'Invalid content-length-range: wrong number of arguments.');
});

test('parse: eq/starts-with with a non-string operand (true, 5) → Invalid JSON.', () => {
  refused(doc([['eq', '$content-type', true]]), 'Invalid JSON.');
  refused(doc([['starts-with', 5, 'x']]), 'Invalid JSON.');
});

test('parse: content-length-range bounds that are not whole sizes (512.0, 1e3, -1, false) → Invalid JSON.', () => {
  assert.deepEqual(parsePolicy(doc([['content-length-range', '5', '10']])).conditions, [
    ['content-length-range', '5', '10'],
  ]);
  refused(`{"expiration": "${EXP}", "conditions": [["content-length-range", 0, 512.0]]}`, 'Invalid JSON.');
  refused(`{"expiration": "${EXP}", "conditions": [["content-length-range", 0, 1e3]]}`, 'Invalid JSON.');
  refused(doc([['content-length-range', -1, 0]]), 'Invalid JSON.');
  refused(doc([['content-length-range', 0, false]]), 'Invalid JSON.');
});

test("parse: escapes — JSON's (\\u0024, \\\\, \\/) and AWS's extra \\$ and \\v — are decoded; a bad one (\\x) is Invalid JSON.", () => {
  const json = String.raw`{"expiration": "${EXP}", "conditions": [["starts-with", "\u0024key", "a\\b\/c\$d\ve"]]}`;
  assert.deepEqual(parsePolicy(json).conditions, [['starts-with', '$key', 'a\\b/c$d\ve']]);
  // An escaped backslash before `$` stays a backslash and a dollar (s3-tests' "\\$foo").
  const kept = String.raw`{"expiration": "${EXP}", "conditions": [["starts-with", "$key", "\\$foo"]]}`;
  assert.deepEqual(parsePolicy(kept).conditions, [['starts-with', '$key', '\\$foo']]);
  refused(String.raw`{"expiration": "${EXP}", "conditions": [["eq", "$key", "\x41"]]}`, 'Invalid JSON.');
});
