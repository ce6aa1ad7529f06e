// Property tests of the POST policy parser and evaluator (packages/policy), and of the whole path a
// browser form takes through them: signed by @chute/sigv4 as the gateway signs a grant, verified,
// parsed, evaluated. Properties: only S3Errors come out (never a TypeError, never a crash); an
// accepted form satisfies every condition of its policy, checked by an independent oracle; a form
// that departs from a gateway-shaped grant in any way the grant forbids is refused.
//
// Bad inputs tried: arbitrary text and JSON, policy-shaped JSON with wrong types (null, floats,
// negatives, 1e3, nested arrays, objects with 0/2 properties), unknown and mixed-case operators,
// AWS's extra escapes (\$, \v), invalid/offset/impossible dates; forms with repeated names in
// other cases, __proto__/constructor fields, ${filename} in values and in file names with / and \,
// comma lists in Content-Type, empty keys, v2/v4 signing fields mixed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isS3Error, type S3ErrorCode } from '@chute/errors';
import type { Condition, FormFields, PostPolicy } from '@chute/policy';
import { checkForm, checkLength, evaluate, parsePolicy } from '@chute/policy';
import { signPostPolicy, verifyPostSignature } from '@chute/sigv4';
import fc from 'fast-check';
import { check } from './runs.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const BUCKET = 'uploads';

/** Runs fn; an S3Error with one of `codes` is an answer, anything else thrown fails the property. */
function answer<T>(fn: () => T, codes: readonly S3ErrorCode[]): T | { refused: S3ErrorCode } {
  try {
    return fn();
  } catch (e) {
    if (!isS3Error(e)) throw e;
    if (!codes.includes(e.code)) throw new Error(`unexpected S3 code ${e.code}: ${e.message}`);
    return { refused: e.code };
  }
}
const refused = (x: unknown): x is { refused: S3ErrorCode } =>
  typeof x === 'object' && x !== null && 'refused' in x;

// --- generators -------------------------------------------------------------------------------

// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally.
const FILENAME = '${filename}';

const FIELD_NAMES = [
  'key',
  'Key',
  'KEY',
  'bucket',
  'Content-Type',
  'content-type',
  'x-amz-meta-user-id',
  'X-Amz-Meta-User-Id',
  'x-amz-meta-note',
  'success_action_status',
  'success_action_redirect',
  'acl',
  'tagging',
  'x-ignore-anything',
  'file',
  'policy',
  'Policy',
  'x-amz-signature',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'AWSAccessKeyId',
  'Signature',
  'Filename',
  '__proto__',
  'constructor',
  'toString',
];
const VALUES = [
  '',
  'k',
  'incoming/alice/up_1',
  'image/png',
  'image/png, text/html',
  'image/',
  ' image/png',
  '201',
  '200',
  BUCKET,
  'other',
  FILENAME,
  `photos/${FILENAME}`,
  '$&',
  "$'",
  'a,b',
  'AWS4-HMAC-SHA256',
];
const fieldName = fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 12 }));
const value = fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 16 }));
const ref = fc.oneof(
  fieldName.map((n) => `$${n}`),
  fieldName,
  fc.constant('$'),
);
const bound = fc.oneof(
  fc.nat(40),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0.5, 1e3, 2 ** 53, Number.MAX_SAFE_INTEGER),
  fc.constantFrom('5', '10', 'test', '', '-1', '0x10', '1e3', ' 5', '99999999999999999999'),
);

/** JSON-ish values a hostile policy may hold where strings are expected. */
const junk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string(), { maxLength: 2 }),
);

const condition = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fieldName, value).map(([n, v]) => ({ [n]: v })) },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom('eq', 'starts-with', 'EQ', 'Starts-With'), ref, value),
  },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('content-length-range'), bound, bound) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.array(fc.oneof(fc.string(), junk), { maxLength: 5 }),
      fc.dictionary(fieldName, fc.oneof(value, junk), { maxKeys: 3 }),
      junk,
    ),
  },
);

const expiration = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('2026-11-21T13:00:00.000Z', '2026-11-21T12:00:00Z') },
  {
    weight: 2,
    arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '2026-11-21T11:59:59.999Z',
      '2026-02-30T00:00:00Z',
      '2026-11-21T13:00:00+02:00',
      '2026-11-21 13:00:00Z',
      '',
    ),
  },
  { weight: 1, arbitrary: junk },
);

/** A policy-shaped document; sometimes with extra or missing members. */
const policyDoc = fc
  .record(
    {
      expiration,
      conditions: fc.oneof({ weight: 6, arbitrary: fc.array(condition, { maxLength: 8 }) }, junk),
      extra: fc.oneof(fc.constant(undefined), junk),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...doc }) => (extra === undefined ? doc : { ...doc, Statement: extra }));

/** Policy text: arbitrary text, arbitrary JSON, or policy-shaped JSON with AWS's extra escapes. */
const policyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.json({ maxDepth: 3 }),
  policyDoc.map((d) => JSON.stringify(d)),
  fc
    .tuple(policyDoc, fc.constantFrom('\\$', '\\v', '\\\\$', '\\u0000', '\\'))
    .map(([d, esc]) => JSON.stringify(d).replace(/"k"/, `"${esc}k"`)),
  fc.constant('{"expiration":"2026-11-21T13:00:00Z","conditions":[["content-length-range",512.0,1e3]]}'),
);

const form = fc.dictionary(fieldName, value, { maxKeys: 10 });
const filename = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('a.png', 'C:\\dir\\b.png', '../../etc/passwd', 'x/y/', '$&.jpg', FILENAME),
  fc.string({ maxLength: 10 }),
);

/** fields[name] = value, also for `__proto__` (a plain assignment would set the prototype). */
function put(fields: FormFields, name: string, value: string): void {
  Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
}

// --- an independent oracle: what an accepted form must satisfy --------------------------------

const V4 = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'];
const V2 = ['awsaccesskeyid', 'signature'];

function oracle(policy: PostPolicy, fields: FormFields, size: number, fname: string | undefined): string[] {
  const broken: string[] = [];
  const base = fname === undefined ? undefined : fname.split(/[/\\]/).pop()!;
  const expanded = Object.entries(fields).map(
    ([n, v]) => [n.toLowerCase(), base === undefined ? v : v.split(FILENAME).join(base)] as const,
  );
  const get = (name: string): string | undefined => {
    const vs = expanded.filter(([n]) => n === name).map(([, v]) => v);
    return vs.length === 0 ? undefined : vs.join(',');
  };
  const expires = Date.parse(policy.expiration);
  if (!(NOW <= expires)) broken.push('expired');
  if (!get('key')) broken.push('no key');
  const named = new Set<string>();
  for (const c of policy.conditions) {
    if (!Array.isArray(c)) {
      const [n, v] = Object.entries(c)[0]!;
      named.add(n.toLowerCase());
      const actual = n.toLowerCase() === 'bucket' ? BUCKET : get(n.toLowerCase());
      if (actual !== v) broken.push(`${n} != ${v}`);
      continue;
    }
    if (c[0] === 'content-length-range') {
      const [lo, hi] = [c[1], c[2]].map((b) => (typeof b === 'number' || /^\d+$/.test(b) ? Number(b) : NaN));
      if (!(lo! <= size && size <= hi!)) broken.push(`size ${size} outside ${c[1]}..${c[2]}`);
      continue;
    }
    const [op, r, v] = c;
    if (!r.startsWith('$')) {
      broken.push(`condition on no field ${r}`);
      continue;
    }
    const name = r.slice(1).toLowerCase();
    named.add(name);
    const actual = name === 'bucket' ? BUCKET : get(name);
    if (actual === undefined) broken.push(`${name} absent`);
    else if (op === 'eq' && actual !== v) broken.push(`${name} != ${v}`);
    else if (op === 'starts-with') {
      if (name === 'bucket' || name === 'success_action_status') broken.push(`starts-with on ${name}`);
      const items =
        name === 'content-type' ? actual.split(',').map((s) => s.replace(/^[ \t]+/, '')) : [actual];
      if (!items.every((s) => s.startsWith(v))) broken.push(`${name} does not start with ${v}`);
    }
  }
  const names = new Set(expanded.map(([n]) => n));
  const v2 = !V4.some((n) => names.has(n)) && V2.some((n) => names.has(n));
  const exempt = v2
    ? ['awsaccesskeyid', 'signature', 'file', 'policy']
    : ['x-amz-signature', 'file', 'policy'];
  for (const n of names) {
    if (!exempt.includes(n) && !n.startsWith('x-ignore-') && !named.has(n)) broken.push(`uncovered ${n}`);
  }
  for (const n of v2 ? V2 : V4) if (!names.has(n)) broken.push(`missing ${n}`);
  return broken;
}

// --- properties -------------------------------------------------------------------------------

describe('fuzz: POST policy parser', () => {
  test('any text parses to a well-formed policy or is refused as InvalidPolicyDocument', (t) => {
    const ran = check(
      fc.property(policyText, (text) => {
        const out = answer(() => parsePolicy(text), ['InvalidPolicyDocument']);
        if (refused(out)) return;
        // What checkForm relies on: an expiration string and conditions of the three shapes.
        assert.equal(typeof out.expiration, 'string');
        assert.ok(Array.isArray(out.conditions));
        for (const c of out.conditions) {
          if (Array.isArray(c)) {
            assert.equal(c.length, 3);
            assert.ok(['eq', 'starts-with', 'content-length-range'].includes(c[0]));
            if (c[0] !== 'content-length-range')
              assert.ok(typeof c[1] === 'string' && typeof c[2] === 'string');
            else for (const b of [c[1], c[2]]) assert.ok(typeof b === 'string' || Number.isSafeInteger(b));
          } else {
            const entries = Object.entries(c);
            assert.equal(entries.length, 1);
            assert.equal(typeof entries[0]![1], 'string');
          }
        }
      }),
      { scale: 20 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });
});

describe('fuzz: POST policy evaluator', () => {
  const empty: PostPolicy = { expiration: '2026-11-21T13:00:00Z', conditions: [] };
  const policy = policyDoc.map((doc): PostPolicy => {
    const out = answer(() => parsePolicy(JSON.stringify(doc)), ['InvalidPolicyDocument']);
    return refused(out) ? empty : out;
  });

  test('any form against any policy: a decision or an S3 refusal, and an accepted form meets every condition', (t) => {
    const ran = check(
      fc.property(policy, form, fc.nat(50), filename, (p, fields, size, fname) => {
        const opts = fname === undefined ? { now: NOW } : { now: NOW, filename: fname };
        const out = answer(
          () => evaluate(p, fields, size, BUCKET, opts),
          ['InvalidArgument', 'AccessDenied', 'InvalidPolicyDocument', 'EntityTooLarge', 'EntityTooSmall'],
        );
        if (refused(out)) return;
        assert.deepEqual(oracle(p, fields, size, fname), [], 'accepted a form the policy forbids');
      }),
      { scale: 20 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  // Random forms rarely satisfy a policy, so the oracle above sees few acceptances: here the form
  // is built to satisfy the conditions first, then perturbed a little.
  test('forms built from their own policy, then perturbed: accepted ones meet every condition', (t) => {
    const built = fc.array(fc.tuple(fieldName, value, fc.constantFrom('obj', 'eq', 'starts-with')), {
      minLength: 1,
      maxLength: 6,
    });
    const perturb = fc.array(
      fc.oneof(
        fc.tuple(fc.constant('set' as const), fieldName, value),
        fc.tuple(fc.constant('delete' as const), fieldName, fc.constant('')),
        fc.tuple(fc.constant('upper' as const), fieldName, fc.constant('')),
      ),
      { maxLength: 2 },
    );
    const ran = check(
      fc.property(built, fc.nat(20), fc.nat(20), perturb, filename, (spec, lo, span, edits, fname) => {
        const conditions: Condition[] = [
          ['eq', '$key', 'k'],
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-credential': 'AKID/20261121/us-east-1/s3/aws4_request' },
          { 'x-amz-date': '20261121T120000Z' },
          ['content-length-range', lo, lo + span],
        ];
        const fields: FormFields = {
          key: 'k',
          'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
          'X-Amz-Credential': 'AKID/20261121/us-east-1/s3/aws4_request',
          'X-Amz-Date': '20261121T120000Z',
          'X-Amz-Signature': 'ab'.repeat(32),
          Policy: 'e30=',
        };
        for (const [n, v, kind] of spec) {
          if (kind === 'obj') conditions.push({ [n]: v });
          else conditions.push([kind, `$${n}`, kind === 'eq' ? v : v.slice(0, 2)]);
          put(fields, n, v);
        }
        for (const [op, n, v] of edits) {
          if (op === 'set') put(fields, n, v);
          else if (op === 'delete') delete fields[n];
          else if (Object.hasOwn(fields, n)) {
            const old = fields[n]!;
            delete fields[n];
            put(fields, n.toUpperCase(), old);
          }
        }
        const p: PostPolicy = { expiration: '2026-11-21T13:00:00Z', conditions };
        for (const size of [lo, lo + span, lo + span + 1, Math.max(0, lo - 1)]) {
          const opts = fname === undefined ? { now: NOW } : { now: NOW, filename: fname };
          const out = answer(
            () => evaluate(p, fields, size, BUCKET, opts),
            ['InvalidArgument', 'AccessDenied', 'EntityTooLarge', 'EntityTooSmall'],
          );
          if (!refused(out))
            assert.deepEqual(oracle(p, fields, size, fname), [], 'accepted a forbidden form');
        }
      }),
      { scale: 20 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });
});

// --- the grant path: what the gateway signs, the store must hold the browser to ---------------

const CREDS = { accessKeyId: 'AKIDCHUTEFUZZ', secretAccessKey: 'chute-fuzz-secret-key' };
const verifyOpts = {
  lookupSecret: (id: string) => (id === CREDS.accessKeyId ? CREDS.secretAccessKey : undefined),
  now: NOW,
  region: 'us-east-1',
};

interface Grant {
  key: string;
  contentType: string;
  size: number;
  meta: Record<string, string>;
}
const grantArb: fc.Arbitrary<Grant> = fc.record({
  key: fc.stringMatching(/^incoming\/[a-z]{1,8}\/up_[0-9A-Za-z]{4,22}$/),
  contentType: fc.constantFrom('image/png', 'image/jpeg', 'application/pdf', 'text/plain'),
  size: fc.integer({ min: 1, max: 5 * 1024 ** 3 }),
  meta: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ minLength: 1, maxLength: 8 }), {
    maxKeys: 2,
  }),
});

/** A grant signed as the gateway signs one (postConditions + signPostPolicy), and its honest form. */
function signGrant(g: Grant): Record<string, string> {
  const metaFields = Object.fromEntries(Object.entries(g.meta).map(([k, v]) => [`x-amz-meta-${k}`, v]));
  const signed = signPostPolicy({
    endpoint: 'http://127.0.0.1:9000',
    bucket: BUCKET,
    key: g.key,
    region: 'us-east-1',
    credentials: CREDS,
    expiresIn: 600,
    now: NOW - 60_000,
    conditions: [['content-length-range', g.size, g.size]],
    fields: { 'Content-Type': g.contentType, ...metaFields, success_action_status: '201' },
  });
  const { bucket: _b, ...fields } = signed.fields;
  return fields;
}

/** The store's decision for a submitted form: verify the signature, parse, check, measure. */
function storeDecides(fields: Record<string, string>, size: number, fname: string | undefined, now = NOW) {
  const sig = verifyPostSignature(fields, { ...verifyOpts, now });
  if ('anonymous' in sig) throw new Error('anonymous');
  const policy = parsePolicy(sig.policyJson);
  const opts = fname === undefined ? { now } : { now, filename: fname };
  const decided = checkForm(policy, fields, BUCKET, opts);
  checkLength(decided.lengthRange, size);
  return decided;
}

type Forgery = (
  f: Record<string, string>,
  g: Grant,
) => { fields: Record<string, string>; size: number; filename?: string; now?: number };

const FORGERIES: Record<string, fc.Arbitrary<Forgery>> = {
  'another key': fc.string({ minLength: 1, maxLength: 20 }).map((k) => (f, g) => ({
    fields: { ...f, key: k === g.key ? `${k}x` : k },
    size: g.size,
  })),
  'a sibling key with ${filename}': fc.constant((f, g) => ({
    fields: { ...f, key: `${g.key}/${FILENAME}` },
    size: g.size,
    filename: 'x.png',
  })),
  'a second key field in another case': fc.constantFrom('Key', 'KEY', 'kEy').map((n) => (f, g) => ({
    fields: { ...f, [n]: 'incoming/mallory/up_x' },
    size: g.size,
  })),
  'another content type': fc
    .constantFrom('text/html', 'image/svg+xml', 'image/png; x=1', '')
    .map((ct) => (f, g) => ({
      fields: { ...f, 'Content-Type': ct === g.contentType ? 'text/html' : ct },
      size: g.size,
    })),
  'a content-type list': fc.constant((f, g) => ({
    fields: { ...f, 'Content-Type': `${g.contentType},text/html` },
    size: g.size,
  })),
  'a size off by some bytes': fc
    .integer({ min: -3, max: 3 })
    .filter((d) => d !== 0)
    .map((d) => (f, g) => ({
      fields: f,
      size: Math.max(0, g.size + d) === g.size ? g.size + 1 : Math.max(0, g.size + d),
    })),
  'an uncovered field': fc
    .constantFrom('success_action_redirect', 'acl', 'x-amz-meta-user-id', 'tagging', 'Cache-Control')
    .map((n) => (f, g) => ({
      fields: { ...f, [n]: 'x' },
      size: g.size,
    })),
  'a changed metadata value': fc.constant((f, g) => {
    const name = Object.keys(f).find((n) => n.startsWith('x-amz-meta-'));
    return {
      fields: name ? { ...f, [name]: `${f[name]}!` } : { ...f, 'x-amz-meta-other': 'x' },
      size: g.size,
    };
  }),
  'success_action_status 200': fc.constant((f, g) => ({
    fields: { ...f, success_action_status: '200' },
    size: g.size,
  })),
  'a field dropped': fc
    .constantFrom('Content-Type', 'success_action_status', 'X-Amz-Date', 'X-Amz-Signature')
    .map((n) => (f, g) => {
      const { [n]: _gone, ...rest } = f;
      return { fields: rest, size: g.size };
    }),
  'a re-signed policy': fc.constant((f, g) => ({
    fields: {
      ...f,
      Policy: Buffer.from(
        `{"expiration":"2027-01-01T00:00:00Z","conditions":[["starts-with","$key",""]]}`,
      ).toString('base64'),
    },
    size: g.size,
  })),
  'the policy base64 altered': fc.nat().map((i) => (f, g) => {
    const p = f.Policy!;
    const at = i % p.length;
    const c = p[at] === 'A' ? 'B' : 'A';
    return { fields: { ...f, Policy: p.slice(0, at) + c + p.slice(at + 1) }, size: g.size };
  }),
  'too late': fc
    .integer({ min: 1, max: 10_000_000 })
    .map((ms) => (f, g) => ({ fields: f, size: g.size, now: NOW + 540_000 + ms })),
};

describe('fuzz: a gateway-shaped POST grant holds the browser to it', () => {
  test('the honest form is accepted; with field names in any case too', (t) => {
    const ran = check(
      fc.property(grantArb, fc.boolean(), (g, recase) => {
        const f = signGrant(g);
        const fields = recase
          ? Object.fromEntries(Object.entries(f).map(([n, v]) => [n.toUpperCase(), v]))
          : f;
        const d = storeDecides(fields, g.size, undefined);
        assert.equal(d.key, g.key);
      }),
      { scale: 5 },
    );
    t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
  });

  for (const [name, forgery] of Object.entries(FORGERIES)) {
    test(`refused: ${name}`, (t) => {
      const ran = check(
        fc.property(grantArb, forgery, (g, forge) => {
          const forged = forge(signGrant(g), g);
          const out = answer(
            () => storeDecides(forged.fields, forged.size, forged.filename, forged.now),
            [
              'InvalidArgument',
              'AccessDenied',
              'EntityTooLarge',
              'EntityTooSmall',
              'SignatureDoesNotMatch',
              'InvalidPolicyDocument',
            ],
          );
          assert.ok(refused(out), `accepted: ${JSON.stringify(forged)}`);
        }),
      );
      t.diagnostic(`${ran.runs} runs, seed ${ran.seed}`);
    });
  }
});
