import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Error } from '@chute/errors';
import { type CorsRule, parseCorsConfiguration, serializeCorsConfiguration } from '../src/cors/config.ts';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MINIMAL = '<AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>';

function doc(...rules: string[]): string {
  return `<CORSConfiguration xmlns="${NS}">${rules.map((r) => `<CORSRule>${r}</CORSRule>`).join('')}</CORSConfiguration>`;
}

function errorOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return { code: e.code, message: e.message };
  }
  assert.fail('expected an S3Error');
}

describe('parseCorsConfiguration', () => {
  test('reads every element of a rule', () => {
    const rules = parseCorsConfiguration(`<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="${NS}">
  <CORSRule>
    <ID>uploads</ID>
    <AllowedOrigin>https://app.example</AllowedOrigin>
    <AllowedOrigin>https://*.app.example</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
  <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
</CORSConfiguration>`);
    assert.deepEqual(rules, [
      {
        id: 'uploads',
        allowedOrigins: ['https://app.example', 'https://*.app.example'],
        allowedMethods: ['PUT', 'POST'],
        allowedHeaders: ['*'],
        exposeHeaders: ['ETag'],
        maxAgeSeconds: 3000,
      },
      { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] },
    ]);
  });

  test('accepts no namespace, a namespace prefix, bytes and a BOM', () => {
    const expected = parseCorsConfiguration(doc(MINIMAL));
    assert.deepEqual(
      parseCorsConfiguration(`<CORSConfiguration><CORSRule>${MINIMAL}</CORSRule></CORSConfiguration>`),
      expected,
    );
    assert.deepEqual(
      parseCorsConfiguration(
        `<s3:CORSConfiguration xmlns:s3="${NS}"><s3:CORSRule><s3:AllowedOrigin>https://app.example</s3:AllowedOrigin><s3:AllowedMethod>GET</s3:AllowedMethod></s3:CORSRule></s3:CORSConfiguration>`,
      ),
      expected,
    );
    assert.deepEqual(parseCorsConfiguration(new TextEncoder().encode(`\uFEFF${doc(MINIMAL)}`)), expected);
  });

  test('accepts 100 rules', () => {
    assert.equal(parseCorsConfiguration(doc(...Array.from({ length: 100 }, () => MINIMAL))).length, 100);
  });

  const malformed: [string, string | Uint8Array][] = [
    ['an empty body', ''],
    ['text that is not XML', 'AllowedOrigin: *'],
    ['an unclosed element', `<CORSConfiguration><CORSRule>${MINIMAL}</CORSConfiguration>`],
    ['a DOCTYPE', `<!DOCTYPE CORSConfiguration>${doc(MINIMAL)}`],
    ['another root', `<CORSRules><CORSRule>${MINIMAL}</CORSRule></CORSRules>`],
    ['no rule', doc()],
    ['101 rules', doc(...Array.from({ length: 101 }, () => MINIMAL))],
    ['a rule without AllowedOrigin', doc('<AllowedMethod>GET</AllowedMethod>')],
    ['a rule without AllowedMethod', doc('<AllowedOrigin>*</AllowedOrigin>')],
    ['an unknown element', doc(`${MINIMAL}<AllowedHeaders>*</AllowedHeaders>`)],
    ['an element name in another case', doc(`${MINIMAL}<allowedheader>*</allowedheader>`)],
    ['MaxAgeSeconds that is not a number', doc(`${MINIMAL}<MaxAgeSeconds>hour</MaxAgeSeconds>`)],
    ['MaxAgeSeconds below zero', doc(`${MINIMAL}<MaxAgeSeconds>-1</MaxAgeSeconds>`)],
    ['MaxAgeSeconds above 32 bits', doc(`${MINIMAL}<MaxAgeSeconds>2147483648</MaxAgeSeconds>`)],
    [
      'MaxAgeSeconds twice',
      doc(`${MINIMAL}<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>1</MaxAgeSeconds>`),
    ],
    ['an ID of 256 characters', doc(`${MINIMAL}<ID>${'a'.repeat(256)}</ID>`)],
    ['bytes that are not UTF-8', new Uint8Array([0x3c, 0xff, 0xfe, 0x3e])],
  ];
  for (const [name, body] of malformed) {
    test(`MalformedXML: ${name}`, () => {
      assert.equal(errorOf(() => parseCorsConfiguration(body)).code, 'MalformedXML');
    });
  }

  const invalid: [string, string, string][] = [
    [
      'AllowedMethod PATCH',
      '<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>',
      'Found unsupported HTTP method in CORS config. Unsupported method is PATCH',
    ],
    [
      'AllowedMethod in lowercase',
      '<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>',
      'Found unsupported HTTP method in CORS config. Unsupported method is get',
    ],
    [
      'AllowedOrigin with two wildcards',
      '<AllowedOrigin>https://*.example.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>',
      'AllowedOrigin "https://*.example.*" can not have more than one wildcard.',
    ],
    [
      'AllowedHeader with two wildcards',
      `${MINIMAL}<AllowedHeader>x-*-meta-*</AllowedHeader>`,
      'AllowedHeader "x-*-meta-*" can not have more than one wildcard.',
    ],
    [
      'ExposeHeader with a wildcard',
      `${MINIMAL}<ExposeHeader>x-amz-*</ExposeHeader>`,
      'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.',
    ],
  ];
  for (const [name, rule, message] of invalid) {
    test(`InvalidRequest: ${name}`, () => {
      assert.deepEqual(
        errorOf(() => parseCorsConfiguration(doc(rule))),
        { code: 'InvalidRequest', message },
      );
    });
  }

  test('the shape of the whole document is checked before the values', () => {
    const bad = '<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>';
    assert.equal(
      errorOf(() => parseCorsConfiguration(doc(bad, '<AllowedMethod>GET</AllowedMethod>'))).code,
      'MalformedXML',
    );
  });

  test('a document above 64 KB is refused', () => {
    const big = doc(`${MINIMAL}<ID>x</ID>`).replace('<CORSRule>', `<CORSRule>${' '.repeat(65 * 1024)}`);
    assert.equal(errorOf(() => parseCorsConfiguration(big)).code, 'MaxMessageLengthExceeded');
  });
});

describe('serializeCorsConfiguration', () => {
  test('writes the elements in the order GetBucketCors uses', () => {
    const rule: CorsRule = {
      id: 'a&b',
      allowedOrigins: ['https://app.example'],
      allowedMethods: ['GET', 'PUT'],
      allowedHeaders: ['*'],
      exposeHeaders: ['ETag'],
      maxAgeSeconds: 0,
    };
    assert.equal(
      serializeCorsConfiguration([rule]),
      `<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="${NS}"><CORSRule><ID>a&amp;b</ID>` +
        '<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>' +
        '<AllowedOrigin>https://app.example</AllowedOrigin><AllowedHeader>*</AllowedHeader>' +
        '<MaxAgeSeconds>0</MaxAgeSeconds><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>',
    );
  });

  test('round-trips', () => {
    const rules: CorsRule[] = [
      {
        id: `<id> & "quotes" 'apos' é`,
        allowedOrigins: ['https://app.example/?a=1&b=2', 'http://*'],
        allowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
        allowedHeaders: ['content-type', 'x-amz-*'],
        exposeHeaders: ['ETag', 'x-amz-request-id'],
        maxAgeSeconds: 86400,
      },
      { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] },
    ];
    assert.deepEqual(parseCorsConfiguration(serializeCorsConfiguration(rules)), rules);
  });
});
