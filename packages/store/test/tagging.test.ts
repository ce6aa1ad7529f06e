// Tag sets as S3 limits them. Bad inputs tried: 11 tags, an empty key, a 129-character key, a
// 257-character value, a repeated key, a TagSet that is not one, a Tag without Key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from '@chute/errors';
import { parseTagging, taggingXml } from '../src/tagging.ts';

const doc = (tags: Array<[string, string]>) =>
  `<Tagging><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof S3Error);
    return e.code;
  }
  return 'accepted';
};

test('a tag set round-trips, in order; an empty TagSet is no tags', () => {
  const tags: Array<[string, string]> = [
    ['b', '2'],
    ['a', ''],
    ['ü', 'x &amp; y'],
  ];
  assert.deepEqual(parseTagging(doc(tags)), [
    ['b', '2'],
    ['a', ''],
    ['ü', 'x & y'],
  ]);
  assert.deepEqual(parseTagging(taggingXml([['k', 'v & w']])), [['k', 'v & w']]);
  assert.deepEqual(parseTagging('<Tagging><TagSet></TagSet></Tagging>'), []);
});

test('S3 limits: at most 10 tags, keys 1..128 characters and unique, values up to 256', () => {
  const eleven = Array.from({ length: 11 }, (_, i): [string, string] => [`k${i}`, 'v']);
  assert.equal(
    code(() => parseTagging(doc(eleven))),
    'InvalidTag',
  );
  assert.equal(
    code(() => parseTagging(doc(eleven.slice(0, 10)))),
    'accepted',
  );
  assert.equal(
    code(() => parseTagging(doc([['', 'v']]))),
    'InvalidTag',
  );
  assert.equal(
    code(() => parseTagging(doc([['k'.repeat(129), 'v']]))),
    'InvalidTag',
  );
  assert.equal(
    code(() => parseTagging(doc([['k'.repeat(128), 'v'.repeat(256)]]))),
    'accepted',
  );
  assert.equal(
    code(() => parseTagging(doc([['k', 'v'.repeat(257)]]))),
    'InvalidTag',
  );
  assert.equal(
    code(() =>
      parseTagging(
        doc([
          ['k', '1'],
          ['k', '2'],
        ]),
      ),
    ),
    'InvalidTag',
  );
});

test('not a Tagging document: MalformedXML', () => {
  for (const bad of [
    '<Tagging><TagSet>',
    '<Other/>',
    '<Tagging/>',
    '<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>',
  ]) {
    assert.equal(
      code(() => parseTagging(bad)),
      'MalformedXML',
      bad,
    );
  }
});
