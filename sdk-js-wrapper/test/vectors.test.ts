/**
 * The core's assignment vectors (`sdk-core/tests/vectors/assignment.json`), checked through the
 * package's public API with the real WebAssembly build: for each case the visitor id is in
 * storage, `/v1/config` serves the case's experiment, and `getVariant` must show the variant
 * the vector expects (the control when the visitor is outside the experiment or the spec is
 * invalid). Forced cases go through a `?vv_force=` QA link, sticky ones through the stored
 * assignment. Needs `scripts/build-wasm` to have run.
 */

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVibariant } from '../src/index';

interface VectorCase {
  visitor: string;
  experiment: string;
  variants: string[];
  weights: Array<number | string>;
  coverage: number | string;
  forced: string | null;
  sticky: string | null;
  expected: { variant?: string | null; source?: string; error?: string };
}

const file = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const wasmPath = file('../../sdk-core/pkg/vibariant_core_bg.wasm');
const { cases } = JSON.parse(
  readFileSync(file('../../sdk-core/tests/vectors/assignment.json'), 'utf8'),
) as { cases: VectorCase[] };

afterEach(() => vi.unstubAllGlobals());

describe('assignment vectors through createVibariant + getVariant', () => {
  it('has the WebAssembly build to test against', () => {
    expect(existsSync(wasmPath), 'sdk-core/pkg is missing: run scripts/build-wasm').toBe(true);
  });

  it('shows every vector its expected variant', async () => {
    const wasm = readFileSync(wasmPath);
    let checked = 0;
    for (const [n, c] of cases.entries()) {
      // The SDK never runs with an empty visitor id: it makes a new one instead.
      if (c.visitor === '') continue;
      localStorage.clear();
      document.cookie = 'vv_vid=; Max-Age=0; Path=/';
      localStorage.setItem('vv_vid', c.visitor);
      if (c.sticky !== null)
        localStorage.setItem('vv_asg', JSON.stringify({ [c.experiment]: c.sticky }));
      const force =
        c.forced === null ? '' : '?vv_force=' + encodeURIComponent(c.experiment + ':' + c.forced);
      history.replaceState(null, '', '/' + force);
      const experiment = {
        key: c.experiment,
        coverage: c.coverage,
        variants: c.variants.map((name, i) => ({ name, weight: c.weights[i] })),
      };
      vi.stubGlobal('fetch', async () => Response.json({ experiments: [experiment], goals: [] }));

      const client = createVibariant({
        token: 't',
        apiUrl: 'https://api.test',
        autoTrack: false,
        wasm,
      });
      await client.ready;
      expect(client.status(), 'the core loaded').toBe('ready');
      expect(client.visitorId).toBe(c.visitor);
      const shown = client.getVariant(c.experiment, c.variants);
      const expected = c.expected.variant ?? c.variants[0];
      expect(shown, `case ${n}: ${JSON.stringify(c)}`).toBe(expected);
      client.destroy();
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(240);
  });
});
