// helpers/route-spec.ts: the suites' routes, written as JSON for the cluster's config files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { route } from '../src/rules/builder.ts';
import { routeFromSpec } from '../src/rules/spec.ts';
import { routeSpec } from './helpers/route-spec.ts';

test('every field a suite route uses survives JSON: the spec builds the same rule', () => {
  const routes = [
    route('logo')
      .types('image/png', 'image/jpeg')
      .maxSize('20MB')
      .minSize('2B')
      .image({ maxWidth: 4096 })
      .review({ reasons: ['blurry'], retention: '1h' }),
    route('current')
      .types('image/png')
      .maxSize('1MB')
      .review()
      .publish({ key: 'l/{userId}/c.png', keepOne: true }),
    route('avatar').types('image/png').maxSize('1MB').method('put').publish().metadata({ team: 'a' }),
    route('video').types('application/octet-stream').maxSize('6GiB').multipart({ threshold: '8MiB' }),
    route('pic').types('image/png').maxSize('100KB').proxy().lifetime('90s'),
  ];
  for (const r of routes) {
    const spec = JSON.parse(JSON.stringify(routeSpec(r)));
    assert.deepEqual(routeFromSpec(spec).build(), r.build(), r.name);
  }
});

test('a rule its spec cannot express is refused, not written as another', () => {
  // Reasons set, then review turned off: a spec carries reasons only with review on.
  const r = route('odd')
    .types('image/png')
    .maxSize('1MB')
    .review({ reasons: ['blurry'] })
    .review(false);
  assert.throws(() => routeSpec(r), /route "odd": its JSON spec builds another rule/);
});
