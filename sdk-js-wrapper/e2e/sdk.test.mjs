// The SDK end to end: the example app (built with Vite) in Debian's Chromium against the real
// backend on SQLite. Run through scripts/test-browser, which builds what this needs first.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { backend, browser, buildExample, eventually, median, serve } from './harness.mjs';

const LOADS = Number(process.env.VV_TIMING_LOADS ?? 9);

let server;
let site;
let strictSite;
let chromium;
let built;
let experimentId;
const pageErrors = [];

before(async () => {
  server = await backend();
  const created = await server.api('POST', '/v1/experiments', {
    key: 'hero-cta',
    variants: [{ name: 'control' }, { name: 'bold' }],
    primary_goal: 'signup',
    proxy_metrics: ['clicks', 'pageviews'],
  });
  experimentId = created.id ?? created.experiment?.id;
  await server.api('POST', `/v1/experiments/${experimentId}/start`);
  built = await buildExample({ apiUrl: server.url, token: server.token });
  site = await serve(built);
  // No 'wasm-unsafe-eval' in script-src: the browser refuses to compile WebAssembly.
  strictSite = await serve(built, {
    'content-security-policy': `script-src 'self'; connect-src ${server.url}`,
  });
  chromium = await browser();
});

after(async () => {
  await chromium?.close();
  await site?.close();
  await strictSite?.close();
  await server?.close();
  if (built) rmSync(built, { recursive: true, force: true });
});

/** A page in its own context (a new visitor), with page errors collected. */
async function visitor() {
  const context = await chromium.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error));
  return { context, page };
}

/** Loads `url` and waits for the example's "first variant rendered" mark. */
async function load(page, url) {
  await page.goto(url);
  await page.waitForFunction(
    () => performance.getEntriesByName('vv-first-variant').length > 0,
    null,
    { timeout: 15_000 },
  );
  return {
    variant: await page.getAttribute('#hero', 'data-variant'),
    ms: await page.evaluate(() => performance.getEntriesByName('vv-first-variant')[0].startTime),
  };
}

const results = () => server.api('GET', `/v1/experiments/${experimentId}/results`);
const clicksFor = async (variant) =>
  (await results()).metrics.clicks.find((row) => row.variant === variant)?.sum ?? 0;
const candidates = async () => (await server.api('GET', '/v1/goal-candidates')).candidates;
const candidate = async (kind, category) =>
  (await candidates()).find((c) => c.event_kind === kind && c.category === category);

describe('the example app against the real backend', () => {
  let returning;
  let variant;

  it('renders a variant; the CTA click and form submit become goal candidates', async () => {
    returning = await visitor();
    const { page } = returning;
    ({ variant } = await load(page, site.url + '/'));
    assert.ok(['control', 'bold'].includes(variant), `unexpected variant ${variant}`);
    const headline = await page.textContent('#hero h1');
    assert.equal(headline, variant === 'bold' ? 'SHIP FASTER. TODAY.' : 'Ship experiments');

    await page.click('#cta');
    await page.click('#private');
    await page.fill('input[name=email]', 'ada@example.com');
    await page.click('#signup button[type=submit]');
    await page.waitForSelector('#thanks');

    const cta = await eventually(() => candidate('click', 'start_trial'));
    assert.ok(cta, 'the CTA click became a start_trial candidate');
    assert.equal(cta.occurrences, 1);
    const form = await eventually(() => candidate('form_submit', 'sign_up'));
    assert.ok(form, 'the form submit became a sign_up candidate');
    assert.equal(form.occurrences, 1);
    const labels = JSON.stringify(await candidates());
    assert.ok(!labels.includes('billing'), 'the data-vv-ignore button was not tracked');
    assert.ok(!labels.includes('ada@'), 'no input value reached the backend');

    // The exposure counted the visitor in the variant the page shows, and both tracked clicks
    // (the CTA and the form's submit button, not the ignored one) count for that variant.
    const counted = await eventually(async () => {
      const { analysis } = await results();
      const row = analysis.variants.find((v) => v.key === variant);
      return row?.visitors === 1 ? row : undefined;
    });
    assert.equal(counted?.visitors, 1, `${variant}: ${JSON.stringify((await results()).analysis)}`);
    assert.equal(await clicksFor(variant), 2, JSON.stringify((await results()).metrics));
  });

  it('keeps the same variant across a reload', async () => {
    const { page } = returning;
    for (let i = 0; i < 3; i++) {
      const again = await load(page, site.url + '/');
      assert.equal(again.variant, variant);
    }
  });

  it('queues events while the backend is down, delivers them once after restart', async () => {
    const { page } = returning;
    const before = (await candidate('click', 'start_trial')).occurrences;
    const clicksBefore = await clicksFor(variant);
    await server.stop();

    await page.click('#cta');
    await page.click('#cta');
    // A reload while the backend is down: the queue survives in localStorage, the config comes
    // from the cached copy and the variant from the sticky assignment.
    const reloaded = await load(page, site.url + '/');
    assert.equal(reloaded.variant, variant);
    await page.click('#cta');
    const queued = await page.evaluate(() =>
      JSON.parse(localStorage.getItem('vv_q') ?? '[]').filter((e) => e.includes('"click"')),
    );
    assert.ok(queued.length >= 3, `clicks queued while down: ${queued.length}`);

    await server.start();
    const delivered = await eventually(async () => {
      const c = await candidate('click', 'start_trial');
      return c.occurrences >= before + 3 ? c : undefined;
    }, 60_000);
    assert.equal(delivered?.occurrences, before + 3);
    assert.equal(await clicksFor(variant), clicksBefore + 3);

    // Leaving the page beacons whatever is left, and the next load sends stored events again:
    // the backend must still count each click once.
    await page.goto('about:blank');
    await load(page, site.url + '/');
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    assert.equal((await candidate('click', 'start_trial')).occurrences, before + 3);
    assert.equal(await clicksFor(variant), clicksBefore + 3);
    await returning.context.close();
  });

  it('renders the control on a page whose CSP forbids WebAssembly, and says why once', async () => {
    const { context, page } = await visitor();
    const messages = [];
    page.on('console', (message) => messages.push(message.text()));
    const { variant: shown } = await load(page, strictSite.url + '/?debug');
    assert.equal(shown, 'control');
    await page.click('#cta');
    const reasons = messages.filter((m) => m.includes('WebAssembly could not be instantiated'));
    assert.equal(reasons.length, 1, messages.join('\n'));
    await context.close();
  });

  it('times the first variant rendered against the same page without the SDK', async (t) => {
    const timings = { sdk: [], plain: [], returning: [] };
    for (let i = 0; i < LOADS; i++) {
      for (const [name, path] of [
        ['sdk', '/'],
        ['plain', '/plain.html'],
      ]) {
        const { context, page } = await visitor();
        timings[name].push((await load(page, site.url + path)).ms);
        if (name === 'sdk') timings.returning.push((await load(page, site.url + path)).ms);
        await context.close();
      }
    }
    const line =
      `first variant rendered, median of ${LOADS} loads: ` +
      `new visitor ${median(timings.sdk).toFixed(1)} ms, ` +
      `returning visitor ${median(timings.returning).toFixed(1)} ms, ` +
      `without the SDK ${median(timings.plain).toFixed(1)} ms`;
    t.diagnostic(line);
    console.log('timing: ' + line);
    for (const list of Object.values(timings)) assert.equal(list.length, LOADS);
  });

  it('let no exception escape into the page', () => {
    assert.deepEqual(pageErrors.map(String), []);
  });
});
