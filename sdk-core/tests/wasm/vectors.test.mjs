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

const EXPORTS = ['Outbox', 'goalCategory', 'goalThreshold', 'resolve', 'scoreElement'];
const float = (v) => (typeof v === 'string' ? Number(v) : v); // "NaN", "Infinity", "-Infinity"
const indexOf = (variants, name) => {
  const index = name === null ? -1 : variants.indexOf(name);
  return index >= 0 ? index : undefined;
};

// `resolve` is the one assignment export, so the bucket and the plain hashed assignment (the
// native `bucket` and `assign`) are checked through it too. The bucket with one variant of
// weight 1: the visitor is in iff bucket < round(coverage * 10000), so coverage b/10000 keeps
// them out and (b+1)/10000 lets them in exactly when the bucket is b.
const inAtCoverage = (c, buckets) =>
  core.resolve(c.visitor, c.experiment, Float64Array.of(1), buckets / 10_000) === 0;

test('every assignment vector matches the WebAssembly core', () => {
  assert.ok(cases.length >= 200, `only ${cases.length} cases`);
  let errors = 0;
  for (const [n, c] of cases.entries()) {
    const context = `case ${n}: ${JSON.stringify(c)}`;
    const weights = Float64Array.from(c.weights, float);
    const call = (forced, sticky) =>
      core.resolve(c.visitor, c.experiment, weights, float(c.coverage), forced, sticky);
    const forced = indexOf(c.variants, c.forced);
    const sticky = indexOf(c.variants, c.sticky);
    if (c.expected.error) {
      // Refused with the error kind whether or not an override applies.
      assert.throws(() => call(forced, sticky), { message: c.expected.error }, context);
      assert.throws(() => call(), { message: c.expected.error }, context);
      errors += 1;
      continue;
    }
    const b = c.expected.bucket;
    assert.ok(!inAtCoverage(c, b) && inAtCoverage(c, b + 1), `bucket ${b}, ${context}`);
    const index = call(forced, sticky);
    assert.equal(index === undefined ? null : c.variants[index], c.expected.variant, context);
    if (c.expected.source === 'hashed' || c.expected.source === 'not_in_experiment') {
      assert.equal(call(), index, `without overrides, ${context}`);
    }
  }
  assert.ok(errors >= 10, `only ${errors} invalid-input cases`);
});

test('the module exports only what the SDK calls', () => {
  // Each export costs bytes every visitor downloads; the SDK's own declaration of the glue is
  // sdk-js-wrapper/src/vibariant_core.d.mts.
  const names = Object.keys(core).filter((name) => !['default', 'initSync'].includes(name));
  assert.deepEqual(names.sort(), EXPORTS);
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
  // The default policy: a flush at 20 events or 5 s, six attempts, backoff from 1 s.
  const outbox = new core.Outbox();
  assert.equal(outbox.push(0, 10, 0), undefined);
  assert.equal(outbox.due(0, false), 0);
  assert.equal(outbox.due(5000, false), 2, 'age');
  for (let n = 1; n < 20; n++) assert.equal(outbox.push(n, 10, 1), undefined);
  assert.equal(outbox.due(1, false), 1, 'count');
  assert.equal(outbox.push(99, 64_000, 2), 99, 'too large for any batch');
  assert.equal(outbox.retryAt, undefined);

  // [batchId, ...handles]
  const [id, ...handles] = outbox.take();
  assert.deepEqual(handles, Array.from({ length: 20 }, (_, n) => n));
  assert.equal(outbox.take(), undefined, 'everything is in flight');
  assert.deepEqual(outbox.settle(id, 503, 100, 1), new Uint32Array(), 'retryable: kept');
  assert.equal(outbox.retryAt, 100 + 1000);
  assert.equal(outbox.due(500, false), 0, 'backing off');
  assert.equal(outbox.due(1100, false), 3, 'retry');
  assert.equal(outbox.due(500, true), 4, 'page hide ignores backoff');

  let attempts = 1;
  let finished = new Uint32Array();
  while (finished.length === 0 && attempts < 10) {
    finished = outbox.settle(outbox.take()[0], 0, 2000, 0);
    attempts += 1;
  }
  assert.equal(attempts, 6, 'given up after six attempts');
  assert.deepEqual(finished, Uint32Array.from({ length: 20 }, (_, n) => n));
  assert.equal(outbox.take(), undefined);
  outbox.push(7, 10, 3000);
  const last = outbox.take();
  assert.deepEqual(last.subarray(1), Uint32Array.of(7));
  const dropped = outbox.settle(last[0], 400, 3001, 0.5);
  assert.deepEqual(dropped, Uint32Array.of(7), 'non-retryable 4xx: dropped');
  assert.equal(outbox.retryAt, undefined, 'an answer ends the backoff');
  assert.equal(outbox.settle(last[0], 200, 3002, 0.5).length, 0, 'settled once');
  outbox.free();
});
