import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openApiDocument } from '../src/http/openapi.ts';
import { EVENT_TYPES } from '../src/lifecycle/events.ts';

test('the OpenAPI document describes every webhook event: headers, body, what the answers mean', () => {
  const doc = openApiDocument() as {
    webhooks: Record<
      string,
      { post: { parameters: { name: string }[]; requestBody: unknown; responses: object } }
    >;
    components: { schemas: Record<string, unknown> };
  };
  assert.deepEqual(Object.keys(doc.webhooks), [...EVENT_TYPES]);
  for (const type of EVENT_TYPES) {
    const op = doc.webhooks[type]!.post;
    assert.deepEqual(
      op.parameters.map((p) => p.name),
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
    );
    assert.match(JSON.stringify(op.requestBody), new RegExp(`"const":"${type.replace('.', '\\.')}"`));
    assert.deepEqual(Object.keys(op.responses).sort(), ['2XX', '410', 'default']);
  }
  assert.ok(doc.components.schemas.WebhookData);
  assert.ok(doc.components.schemas.WebhookFile);
  // Every reference resolves inside the document.
  const text = JSON.stringify(doc);
  assert.doesNotMatch(text, /#\/\$defs\//);
  for (const [, name] of text.matchAll(/"#\/components\/schemas\/(\w+)"/g)) {
    assert.ok(doc.components.schemas[name!], name);
  }
});
