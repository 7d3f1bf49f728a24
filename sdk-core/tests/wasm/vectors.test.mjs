// Loads the built WebAssembly (sdk-core/pkg/, made by scripts/build-wasm) in Node and checks
// every assignment vector, plus the other exports the browser SDK uses. The native tests check
// the same vectors (sdk-core/tests/vectors.rs): together they show that browser, edge and
// server agree. Run: node --test sdk-core/tests/wasm/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const core = await import(here('../../pkg/vibariant_core.js'));
core.initSync({ module: readFileSync(here('../../pkg/vibariant_core_bg.wasm')) });
const { cases } = JSON.parse(readFileSync(here('../vectors/assignment.json'), 'utf8'));

const float = (v) => (typeof v === 'string' ? Number(v) : v); // "NaN", "Infinity", "-Infinity"
const indexOf = (variants, name) => {
  const index = name === null ? -1 : variants.indexOf(name);
  return index >= 0 ? index : undefined;
};

test('every assignment vector matches the WebAssembly core', () => {
  assert.ok(cases.length >= 200, `only ${cases.length} cases`);
  for (const [n, c] of cases.entries()) {
    const context = `case ${n}: ${JSON.stringify(c)}`;
    const call = () =>
      core.resolve(
        c.visitor,
        c.experiment,
        Float64Array.from(c.weights, float),
        float(c.coverage),
        indexOf(c.variants, c.forced),
        indexOf(c.variants, c.sticky),
      );
    if (c.expected.error) {
      assert.throws(call, { message: c.expected.error }, context);
      continue;
    }
    assert.equal(core.bucket(c.visitor, c.experiment), c.expected.bucket, context);
    const index = call();
    assert.equal(index === undefined ? null : c.variants[index], c.expected.variant, context);
    if (c.expected.source === 'hashed' || c.expected.source === 'not_in_experiment') {
      const weights = Float64Array.from(c.weights, float);
      assert.equal(core.assign(c.visitor, c.experiment, weights, float(c.coverage)), index);
    }
  }
});

test('forced variants are parsed from vv_force', () => {
  assert.equal(core.forcedVariant('hero-cta:bold,pricing:cheap', 'pricing'), 'cheap');
  assert.equal(core.forcedVariant('hero-cta:bold', 'pricing'), undefined);
});

test('event ids are 22 characters of base64url and differ', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => core.eventId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{21}[AQgw]$/);
});

test('goal scoring returns a category index and a confidence', () => {
  const [category, confidence] = core.scoreElement('button', 'Start free trial');
  assert.equal(core.goalCategory(category), 'start_trial');
  assert.ok(confidence >= core.goalThreshold());
  const form = core.scoreElement('form', undefined, undefined, undefined, undefined, undefined,
    undefined, undefined, 'email email\npassword pw\npassword pw2');
  assert.equal(core.goalCategory(form[0]), 'sign_up');
  assert.equal(core.scoreElement('button', 'Cancel').length, 0);
  assert.equal(core.goalCategory(99), undefined);
});

test('the outbox batches, retries and drops as the native policy does', () => {
  const outbox = core.Outbox.withLimits(3, 2, 5000, 2);
  assert.equal(outbox.push('a', 10, 0), undefined);
  assert.equal(outbox.due(0, false), 0);
  assert.equal(outbox.push('b', 10, 1), undefined);
  assert.equal(outbox.due(1, false), 1, 'count');
  assert.equal(outbox.push('huge', 64_000, 2), 'huge', 'too large for any batch');

  const batch = outbox.take();
  assert.deepEqual(batch.ids, ['a', 'b']);
  assert.equal(batch.bytes, '{"events":[]}'.length + 10 + 1 + 10);
  const id = batch.id;
  batch.free();
  assert.deepEqual(outbox.settle(id, 503, 100, 1), [], 'retryable: kept');
  assert.equal(outbox.retryAt, 100 + 1000);
  assert.equal(outbox.due(500, false), 0, 'backing off');
  assert.equal(outbox.due(500, true), 4, 'page hide ignores backoff');

  const again = outbox.take();
  assert.deepEqual(outbox.settle(again.id, 0, 2000, 0), ['a', 'b'], 'second failure: given up');
  again.free();
  outbox.push('c', 10, 3000);
  const last = outbox.take();
  assert.deepEqual(outbox.settle(last.id, 400, 3001, 0.5), ['c'], 'non-retryable 4xx: dropped');
  last.free();
  assert.equal(outbox.dropped, 4);
  assert.equal(outbox.queued, 0);
  outbox.free();
});
