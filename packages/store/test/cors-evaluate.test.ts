import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Error } from '@chute/errors';
import type { CorsRule } from '../src/cors/config.ts';
import {
  actualRequestHeaders,
  CORS_VARY,
  matchCorsRule,
  matchWildcard,
  preflight,
} from '../src/cors/evaluate.ts';

const site: CorsRule = {
  id: 'site',
  allowedOrigins: ['https://app.example', 'https://*.app.example'],
  allowedMethods: ['GET', 'PUT', 'POST'],
  allowedHeaders: ['content-type', 'x-amz-*'],
  exposeHeaders: ['ETag', 'x-amz-request-id'],
  maxAgeSeconds: 600,
};
const anyone: CorsRule = {
  id: 'anyone',
  allowedOrigins: ['*'],
  allowedMethods: ['GET', 'HEAD'],
  allowedHeaders: [],
  exposeHeaders: [],
};
const rules = [site, anyone];

function refusal(run: () => unknown) {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof S3Error);
    return { code: e.code, status: e.status, message: e.message, details: { ...e.details } };
  }
  assert.fail('expected an S3Error');
}

describe('matchWildcard', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'https://a.example', true],
    ['https://a.example', 'https://a.example', true],
    ['https://a.example', 'https://A.example', false],
    ['https://a.example', 'https://a.example:8443', false],
    ['https://*.a.example', 'https://x.y.a.example', true],
    ['https://*.a.example', 'https://a.example', false],
    ['http://localhost:*', 'http://localhost:5173', true],
    ['a*a', 'aa', true],
    ['a*a', 'a', false],
  ];
  for (const [pattern, value, expected] of cases) {
    test(`${pattern} ~ ${value}: ${expected}`, () => assert.equal(matchWildcard(pattern, value), expected));
  }
});

describe('matchCorsRule', () => {
  test('the first rule that allows origin, method and every header wins', () => {
    assert.equal(matchCorsRule(rules, 'https://app.example', 'GET'), site);
    assert.equal(matchCorsRule(rules, 'https://other.example', 'GET'), anyone);
    assert.equal(matchCorsRule(rules, 'https://app.example', 'HEAD'), anyone);
    assert.equal(matchCorsRule(rules, 'https://app.example', 'GET', ['x-custom']), undefined);
    assert.equal(
      matchCorsRule(rules, 'https://app.example', 'PUT', ['Content-Type', 'X-Amz-Date']),
      undefined,
    );
    assert.equal(matchCorsRule(rules, 'https://app.example', 'PUT', ['content-type', 'x-amz-date']), site);
    assert.equal(matchCorsRule(rules, 'https://other.example', 'DELETE'), undefined);
  });
});

describe('preflight', () => {
  test('allowed: echoes the origin, lists methods, requested headers, exposes, max age', () => {
    const headers = preflight(
      rules,
      { origin: 'https://x.app.example', method: 'PUT', headers: 'Content-Type, X-Amz-Meta-Owner' },
      'OBJECT',
    );
    assert.deepEqual(headers, {
      'access-control-allow-origin': 'https://x.app.example',
      'access-control-allow-methods': 'GET, PUT, POST',
      'access-control-allow-headers': 'content-type, x-amz-meta-owner',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
      'access-control-allow-credentials': 'true',
      vary: CORS_VARY,
    });
  });

  test('a rule with the literal * answers * and no credentials', () => {
    assert.deepEqual(
      preflight(rules, { origin: 'https://o.example', method: 'GET', headers: undefined }, 'BUCKET'),
      {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD',
        vary: CORS_VARY,
      },
    );
  });

  test('denied by origin, by method, by header: AccessForbidden naming method and resource', () => {
    const denied = [
      { origin: 'https://evil.example', method: 'PUT', headers: undefined },
      { origin: 'https://app.example', method: 'DELETE', headers: undefined },
      { origin: 'https://app.example', method: 'PUT', headers: 'authorization' },
    ];
    for (const request of denied) {
      assert.deepEqual(
        refusal(() => preflight(rules, request, 'OBJECT')),
        {
          code: 'AccessForbidden',
          status: 403,
          message:
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
          details: { Method: request.method, ResourceType: 'OBJECT' },
        },
      );
    }
  });

  test('no configuration: CORS is not enabled', () => {
    assert.deepEqual(
      refusal(() =>
        preflight(undefined, { origin: 'https://a', method: 'GET', headers: undefined }, 'BUCKET'),
      ),
      {
        code: 'AccessForbidden',
        status: 403,
        message: 'CORSResponse: CORS is not enabled for this bucket.',
        details: { Method: 'GET', ResourceType: 'BUCKET' },
      },
    );
  });

  test('no Origin or a bad method: BadRequest, before the configuration is looked at', () => {
    assert.deepEqual(
      refusal(() => preflight(undefined, { origin: undefined, method: 'GET', headers: undefined }, 'OBJECT')),
      {
        code: 'BadRequest',
        status: 400,
        message: 'Insufficient information. Origin request header needed.',
        details: {},
      },
    );
    assert.equal(
      refusal(() =>
        preflight(rules, { origin: 'https://a', method: undefined, headers: undefined }, 'OBJECT'),
      ).message,
      'Invalid Access-Control-Request-Method: null',
    );
    assert.equal(
      refusal(() => preflight(rules, { origin: 'https://a', method: 'PATCH', headers: undefined }, 'OBJECT'))
        .message,
      'Invalid Access-Control-Request-Method: PATCH',
    );
  });
});

describe('actualRequestHeaders', () => {
  test('a matching rule: origin, methods, exposed headers (so browsers can read ETag), Vary', () => {
    assert.deepEqual(actualRequestHeaders(rules, 'https://app.example', 'PUT'), {
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET, PUT, POST',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
      'access-control-allow-credentials': 'true',
      vary: CORS_VARY,
    });
  });

  test('nothing without an Origin, a configuration or a matching rule', () => {
    assert.deepEqual(actualRequestHeaders(rules, undefined, 'GET'), {});
    assert.deepEqual(actualRequestHeaders(undefined, 'https://app.example', 'GET'), {});
    assert.deepEqual(actualRequestHeaders(rules, 'https://app.example', 'DELETE'), {});
  });
});
